"""`jagadata org ...`: organisations and their manifest versions. (Placeholder until storage lands.)"""

from __future__ import annotations

import typer

app = typer.Typer(help="Organisations and their manifest versions.", no_args_is_help=True)
