"""`jagadata datastore discover|scan`: draft a mapping from a live database, and report where
a database has drifted from its mapping or from the policy's promises."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="The organisation's databases: draft a mapping, scan for drift.", no_args_is_help=True
)
