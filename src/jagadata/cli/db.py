"""`jagadata db ...`: migrate jagadata's own database; open it, migrated, for other commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from jagadata.cli.common import LangOption, cli_language, console, fail
from jagadata.config import get_settings
from jagadata.db import DatabaseUnavailable, make_engine, safe_url, session_factory
from jagadata.db.migrate import current_revision, head_revision, new_revision, upgrade
from jagadata.i18n import gettext

app = typer.Typer(help="jagadata's own database: migrations.", no_args_is_help=True)


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "web")


def unavailable(lang: str, dead: DatabaseUnavailable) -> NoReturn:
    """One sentence naming the database (never its password) and what to do; exits 2."""
    fail(
        _t(lang, "Cannot use the database {url}: {reason}.").format(
            url=dead.url, reason=dead.reason.rstrip(".")
        ),
        hint=_t(
            lang,
            "Check that the data directory (JAGADATA_DATA_DIR) can be created and written to, "
            "then try again.",
        )
        if dead.url.startswith("sqlite")
        else _t(
            lang,
            "Check that the database server is running and that JAGADATA_DATABASE_URL is right "
            "(or unset it to use SQLite in JAGADATA_DATA_DIR), then try again.",
        ),
    )


@contextmanager
def migrated_engine(lang: str) -> Iterator[Engine]:
    """The configured database brought to the latest migration, or a clear message and exit 2."""
    url = get_settings().effective_database_url
    try:
        engine = make_engine(url)
    except DatabaseUnavailable as dead:
        unavailable(lang, dead)
    try:
        upgrade(engine)
        yield engine
    except DatabaseUnavailable as dead:
        unavailable(lang, dead)
    except (OperationalError, InterfaceError) as error:
        unavailable(lang, DatabaseUnavailable(safe_url(url), error.__class__.__name__))
    finally:
        engine.dispose()


@contextmanager
def migrated_session(lang: str) -> Iterator[Session]:
    with migrated_engine(lang) as engine, session_factory(engine)() as session:
        yield session


@app.command("upgrade")
def upgrade_command(lang: str | None = LangOption) -> None:
    """Apply every pending migration (serve and org do this on their own)."""
    lang = cli_language(lang)
    with migrated_engine(lang) as engine:
        console.print(
            _t(lang, "The database {url} is up to date (revision {revision}).").format(
                url=escape(safe_url(engine.url)), revision=current_revision(engine)
            )
        )


@app.command("current")
def current_command(lang: str | None = LangOption) -> None:
    """Show the database's migration revision and the latest one; exit 1 if it is behind."""
    lang = cli_language(lang)
    url = get_settings().effective_database_url
    try:
        engine = make_engine(url)
        at = current_revision(engine)
    except DatabaseUnavailable as dead:
        unavailable(lang, dead)
    engine.dispose()
    head = head_revision()
    console.print(
        _t(lang, "Database {url}: revision {current}, latest {head}.").format(
            url=escape(safe_url(url)), current=at or "-", head=head
        )
    )
    if at != head:
        console.print(_t(lang, "Run `jagadata db upgrade` to bring it up to date."))
        raise typer.Exit(1)


@app.command("revision", hidden=True)
def revision_command(message: str = typer.Argument(..., help="What the migration does.")) -> None:
    """For developers: write the next migration from the difference between models and head."""
    console.print(str(new_revision(message)))
