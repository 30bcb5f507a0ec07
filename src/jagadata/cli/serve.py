"""`jagadata serve`: run the web service. (Placeholder until the web skeleton lands.)"""

from __future__ import annotations

import typer


def serve_command() -> None:
    """Run the web service."""
    raise typer.Exit(2)
