"""A live database as discovery and drift scans see it: reaching it (with errors a person
can act on, never the password), its tables, keys and foreign keys, and a small sample of the
values of each column that may hold personal data — read with quoted identifiers, never
string-built SQL."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Engine,
    Numeric,
    String,
    column,
    create_engine,
    inspect,
    select,
    table,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.types import TypeEngine

from jagadata.datastores.detect import COLUMN_HINTS, DETECTORS, Kind
from jagadata.datastores.errors import ConnectionFailed, driver_reason
from jagadata.i18n import N_
from jagadata.manifest.mapping import RowRule

Progress = Callable[[int, int], None]
"""Called with (columns sampled so far, columns to sample) while sampling."""

_TOKEN: Final = re.compile(r"[^\s,;()<>\[\]\"']+")
_DIGIT_RUN: Final = re.compile(r"\+?\d[\d .\-]{7,22}\d")


# --- reaching the database ----------------------------------------------------------------


def database_name(url: str) -> str:
    """The URL as it may be shown: the password hidden; nothing at all if it cannot be read."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "?"


def connect(url: str) -> Engine:
    """An engine for `url` whose first connection succeeded; a clear error otherwise."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            path = parsed.database or ""
            if path and path != ":memory:" and not Path(path).is_file():
                raise ConnectionFailed(
                    N_("There is no SQLite database at {path}."),
                    hint=N_("Check the path in the URL: sqlite:///path/to/file.sqlite3."),
                    path=path,
                )
        engine = create_engine(parsed)
    except (ArgumentError, NoSuchModuleError, ValueError):
        raise ConnectionFailed(
            N_("The database URL cannot be read."),
            hint=N_(
                "Write it as postgresql+psycopg://user:password@host:5432/name, "
                "mysql+pymysql://user:password@host:3306/name or sqlite:///path/to/file.sqlite3."
            ),
        ) from None
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as error:
        engine.dispose()
        raise connection_error(url, error) from None
    return engine


def connection_error(url: str, error: SQLAlchemyError) -> ConnectionFailed:
    reason = driver_reason(error)
    lowered = reason.lower()
    database = database_name(url)
    refused = ("password", "access denied", "authentication", 'role "')
    if any(word in lowered for word in refused):
        return ConnectionFailed(
            N_("{database} refused the user name or password."),
            hint=N_("Check the user and password in the URL, and that this user may connect."),
            database=database,
        )
    if "does not exist" in lowered or "unknown database" in lowered:
        return ConnectionFailed(
            N_("{database} does not exist on that server."),
            hint=N_("Check the database name at the end of the URL."),
            database=database,
        )
    password = make_url(url).password
    if password:
        reason = reason.replace(str(password), "***")
    return ConnectionFailed(
        N_("Cannot reach {database}: {reason}."),
        hint=N_("Check the host and port in the URL, and that the server is running."),
        database=database,
        reason=reason.rstrip("."),
    )


def reading_error(url: str, error: SQLAlchemyError) -> ConnectionFailed:
    """Connected, but a table or column could not be read: rights, or a file that is not a
    database."""
    reason = driver_reason(error)
    return ConnectionFailed(
        N_("Reading {database} failed: {reason}."),
        hint=N_("Check that this user may read every table of the schema (SELECT)."),
        database=database_name(url),
        reason=reason.rstrip(".") or type(error).__name__,
    )


# --- the live schema ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveColumn:
    name: str
    type: TypeEngine[Any]


@dataclass(frozen=True, slots=True)
class LiveForeignKey:
    columns: tuple[str, ...]
    table: str
    to: tuple[str, ...]
    on_delete: RowRule


@dataclass(frozen=True, slots=True)
class LiveTable:
    """One table as the database describes it."""

    name: str
    columns: tuple[LiveColumn, ...]
    primary_key: tuple[str, ...]
    uniques: tuple[tuple[str, ...], ...]
    foreign_keys: tuple[LiveForeignKey, ...]

    def key(self) -> tuple[str, ...]:
        """The primary key, else the first unique set of columns, else nothing."""
        return self.primary_key or (self.uniques[0] if self.uniques else ())

    def column(self, name: str) -> LiveColumn | None:
        return next((c for c in self.columns if c.name == name), None)


_ON_DELETE: Final = {"CASCADE": RowRule.CASCADE, "SET NULL": RowRule.SET_NULL}


def read_tables(engine: Engine, schema: str | None) -> list[LiveTable]:
    """Every table of the schema, with its columns, keys and foreign keys, sorted by name."""
    inspector = inspect(engine)
    tables = []
    for name in sorted(inspector.get_table_names(schema=schema)):
        columns = tuple(
            LiveColumn(c["name"], c["type"]) for c in inspector.get_columns(name, schema=schema)
        )
        primary = tuple(inspector.get_pk_constraint(name, schema=schema)["constrained_columns"])
        uniques = [tuple(u["column_names"]) for u in inspector.get_unique_constraints(name, schema)]
        uniques += [
            tuple(str(c) for c in i["column_names"])
            for i in inspector.get_indexes(name, schema=schema)
            if i.get("unique") and None not in i["column_names"]
        ]
        foreign = tuple(
            LiveForeignKey(
                tuple(fk["constrained_columns"]),
                fk["referred_table"],
                tuple(fk["referred_columns"]),
                _ON_DELETE.get(
                    str(fk.get("options", {}).get("ondelete", "")).upper(), RowRule.RESTRICT
                ),
            )
            for fk in inspector.get_foreign_keys(name, schema=schema)
            if fk.get("referred_schema") in (None, schema)
        )
        tables.append(LiveTable(name, columns, primary, tuple(dict.fromkeys(uniques)), foreign))
    return tables


def worth_sampling(live: LiveColumn) -> bool:
    """Text can hold any personal data; a big number only a NIK, phone or card number, so it is
    sampled only when its name says so (scores and amounts never are)."""
    if isinstance(live.type, String):
        return True
    if isinstance(live.type, BigInteger | Numeric):
        name = live.name.lower()
        return any(COLUMN_HINTS[k].search(name) for k in (Kind.NIK, Kind.PHONE, Kind.CARD))
    return False


def raw_values(
    connection: Connection, table_name: str, name: str, schema: str | None, limit: int
) -> list[Any]:
    """Up to `limit` non-null values of one column, as the driver returns them."""
    target: ColumnClause[Any] = column(name)
    query = select(target).select_from(table(table_name, schema=schema)).limit(limit)
    return list(connection.execute(query.where(target.is_not(None))).scalars())


def sample_values(
    connection: Connection, live: LiveTable, name: str, schema: str | None, limit: int
) -> list[str]:
    """Up to `limit` non-empty values of one column, as text; never logged nor written out."""
    values = raw_values(connection, live.name, name, schema, limit)
    return [text for text in (str(v) for v in values if not isinstance(v, bytes)) if text.strip()]


def samples(
    connection: Connection,
    tables: Sequence[LiveTable],
    schema: str | None,
    limit: int,
    progress: Progress | None = None,
) -> Iterator[tuple[LiveTable, LiveColumn, list[str]]]:
    """Each column worth sampling with its sampled values, reporting progress as it goes."""
    todo = [(t, c) for t in tables for c in t.columns if worth_sampling(c)]
    for done, (live, col) in enumerate(todo, start=1):
        yield live, col, sample_values(connection, live, col.name, schema, limit)
        if progress is not None:
            progress(done, len(todo))


def embedded(text: str, kinds: Sequence[Kind]) -> Kind | None:
    """The first of `kinds` found inside a longer text (a message, a note), if any."""
    candidates = [t.rstrip(".") for t in _TOKEN.findall(text)] + _DIGIT_RUN.findall(text)
    for kind in kinds:
        if any(DETECTORS[kind](c) for c in candidates):
            return kind
    return None


def is_free_text(values: Sequence[str]) -> bool:
    """Most sampled values are several words: sentences, not single data items."""
    return bool(values) and sum(len(v.split()) >= 4 for v in values) * 2 >= len(values)
