"""`jagadata policy ...`: render and compare policies. (Placeholder until rendering lands.)"""

from __future__ import annotations

import typer

app = typer.Typer(help="Render the published policy and compare versions.", no_args_is_help=True)
