"""`jagadata init`: write a commented starter manifest. (Placeholder.)"""

from __future__ import annotations

import typer


def init_command() -> None:
    """Write a starter manifest."""
    raise typer.Exit(2)
