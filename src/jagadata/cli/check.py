"""`jagadata check`: lint a manifest against UU PDP. (Placeholder until the linter lands.)"""

from __future__ import annotations

from pathlib import Path

import typer


def check_command(manifest: Path = typer.Argument(..., help="The manifest file.")) -> None:
    """Check a manifest against UU PDP."""
    raise typer.Exit(2)
