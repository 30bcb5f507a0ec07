"""The whole state of a test database, read independently of the datastore engine, and the
checks that compare it with what an oracle expects after a request.

A snapshot reads every table of a dataset (mapped or not) through the dataset's own
SQLAlchemy tables, keyed by primary key; comparing two snapshots is byte-for-byte for every
row the request must not touch. Values the engine returns "as the driver gives them" are
compared with `canonical`, which puts dates, numbers and booleans of the three drivers into
one form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, MetaData, String, create_engine, event, select

from jagadata.datastores.results import Outcome, Report
from jagadata.manifest.mapping import Datastore, Mask, TableMap

Key = tuple[Any, ...]
Row = dict[str, Any]
Snapshot = dict[str, dict[Key, Row]]
"""Table name to primary key to the row as read."""


def database(url: str) -> Engine:
    """An engine on a test database; SQLite enforces foreign keys as the others do."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _foreign_keys(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


@contextmanager
def opened(url: str) -> Iterator[Engine]:
    engine = database(url)
    try:
        yield engine
    finally:
        engine.dispose()


def fill(url: str, metadata: MetaData, rows: Mapping[str, list[Row]]) -> None:
    """Create the schema and insert the rows, tables in dependency order."""
    with opened(url) as engine:
        metadata.create_all(engine)
        with engine.begin() as connection:
            for table in metadata.sorted_tables:
                if rows.get(table.name):
                    connection.execute(table.insert(), rows[table.name])


def snapshot(url: str, metadata: MetaData) -> Snapshot:
    """Every row of every table of the dataset, keyed by its primary key."""
    state: Snapshot = {}
    with opened(url) as engine, engine.connect() as connection:
        for table in metadata.sorted_tables:
            key = [c.name for c in table.primary_key.columns]
            rows = connection.execute(select(table)).mappings()
            state[table.name] = {tuple(r[k] for k in key): dict(r) for r in rows}
    return state


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?$")


def canonical(value: Any) -> Any:
    """One form for a value whatever driver read it: dates and datetimes as ISO text,
    numbers as normalised decimals, booleans as 0/1."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return Decimal(str(value)).normalize()
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        return canonical(datetime.fromisoformat(value))
    if isinstance(value, str) and _ISO_DATE.match(value):
        return value
    return value


def canonical_row(row: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((column, canonical(value)) for column, value in row.items()))


def rows_of(state: Snapshot, keys: Mapping[str, set[Key]]) -> dict[str, set[tuple[Any, ...]]]:
    """The canonical rows of `keys`, per table; tables with no row left out."""
    return {
        table: {canonical_row(state[table][key]) for key in found}
        for table, found in keys.items()
        if found
    }


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def national_phone(value: str) -> str:
    """A phone written +62…, 62… or 0…, with or without spaces and dashes, as 0…."""
    number = digits(value)
    if value.strip().startswith("+") or number.startswith("62"):
        number = number[2:] if number.startswith("62") else number
        return "0" + number
    return number


def plain_email(value: str) -> str:
    return value.strip().lower()


@dataclass
class Erasure:
    """What an erasure must leave, per table: the person's rows found, the keys deleted,
    the keys kept with their mapped columns masked, and other rows whose reference columns
    are set to NULL (unlinked). Everything else stays exactly as it was."""

    found: dict[str, set[Key]]
    deleted: dict[str, set[Key]] = field(default_factory=dict)
    masked: dict[str, set[Key]] = field(default_factory=dict)
    unlinked: dict[str, dict[Key, tuple[str, ...]]] = field(default_factory=dict)


def _lengths(metadata: MetaData) -> dict[tuple[str, str], int]:
    return {
        (table.name, column.name): column.type.length
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String) and column.type.length
    }


def _required_text(metadata: MetaData) -> set[tuple[str, str]]:
    """NOT NULL text columns: a NULL mask writes the empty text there."""
    return {
        (table.name, column.name)
        for table in metadata.sorted_tables
        for column in table.columns
        if not column.nullable and isinstance(column.type, String)
    }


def _mask_problem(
    mask: Mask, fixed: object, old: Any, new: Any, *, required: bool = False
) -> str | None:
    """Why `new` is not what `mask` makes of `old`, or None. A NULL mask on a NOT NULL
    text column (`required`) writes the empty text."""
    if mask is Mask.NULL:
        empty = "" if required else None
        return None if new is empty or (required and new == "") else f"expected {empty!r}"
    if mask is Mask.KEEP:
        return None if new == old else "expected unchanged"
    if mask is Mask.FIXED:
        return None if canonical(new) == canonical(fixed) else f"expected {fixed!r}"
    if old is None:
        return None if new is None else "expected NULL to stay NULL"
    if new is None or new == old:
        return "expected a changed value"
    if mask is Mask.YEAR:
        year = str(canonical(old))[:4]
        return None if str(canonical(new)).startswith(f"{year}-01-01") else "expected 1 January"
    text = str(new)
    if mask is Mask.EMAIL:
        shaped = re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]+", text)
        same = plain_email(text) == plain_email(str(old))
        return None if shaped and not same else "expected another, well-formed email"
    if mask is Mask.PHONE:
        number = digits(text)
        rest = number[2:] if number.startswith("62") else number.removeprefix("0")
        if number == digits(str(old)) or not rest.startswith("00"):
            return "expected a number of zeros (+62 000…)"
        return None
    if mask is Mask.PSEUDONYM:
        return None if str(old) not in text else "expected a pseudonym"
    return f"unknown mask {mask}"


def erasure_problems(
    before: Snapshot,
    after: Snapshot,
    mapping: Datastore,
    metadata: MetaData,
    expected: Erasure,
) -> list[str]:
    """Every difference between the database after erasure and what the oracle expects."""
    problems: list[str] = []
    lengths = _lengths(metadata)
    required = _required_text(metadata)
    pseudonyms: dict[Any, set[Any]] = {}
    sides = _side_tables(mapping)
    for side, tables in sides.items():
        problems += _side_problems(before[side], after[side], tables, expected)
    for name, rows in before.items():
        if name in sides:
            continue
        gone = expected.deleted.get(name, set())
        masked = expected.masked.get(name, set())
        unlinked = expected.unlinked.get(name, {})
        table = mapping.table(name)
        if set(after[name]) != set(rows) - gone:
            extra = set(after[name]) - (set(rows) - gone)
            missing = (set(rows) - gone) - set(after[name])
            problems.append(
                f"{name}: rows left {sorted(extra)!r} / wrongly gone {sorted(missing)!r}"
            )
        for key, new_row in after[name].items():
            old_row = rows.get(key)
            if old_row is None:
                continue
            for column, old in old_row.items():
                new = new_row[column]
                mapped = table.column(column) if table and key in masked else None
                if mapped is not None:
                    problem = _mask_problem(
                        mapped.mask, mapped.value, old, new, required=(name, column) in required
                    )
                    limit = lengths.get((name, column))
                    if problem is None and limit and isinstance(new, str) and len(new) > limit:
                        problem = f"longer than {limit}"
                    if mapped.mask is Mask.PSEUDONYM and old is not None:
                        pseudonyms.setdefault(old, set()).add(new)
                elif column in unlinked.get(key, ()):
                    problem = None if new is None else "expected unlinked (NULL)"
                elif (
                    table is not None
                    and key in masked
                    and table.restriction is not None
                    and column == table.restriction.column
                ):
                    problem = None if new else "expected marked restricted"
                else:
                    problem = None if new == old else "changed"
                if problem:
                    problems.append(f"{name}{key!r}.{column}: {old!r} -> {new!r}: {problem}")
    problems += [
        f"value {old!r} got several pseudonyms {sorted(map(str, news))}"
        for old, news in pseudonyms.items()
        if len(news) > 1
    ]
    return problems


def _kept_figure(table: TableMap) -> str:
    """Kept rows are 'masked' where the table has a column to mask; where it has none
    (a row kept only because a row that stays points at it) masked or retained will do."""
    if any(c.mask is not Mask.KEEP for c in table.columns):
        return Outcome.MASKED.value
    return "masked_or_retained"


def _side_tables(mapping: Datastore) -> dict[str, list[TableMap]]:
    """Restriction side tables and the mapped tables that write into each."""
    sides: dict[str, list[TableMap]] = {}
    for table in mapping.tables:
        if table.restriction is not None and table.restriction.table is not None:
            sides.setdefault(table.restriction.table, []).append(table)
    return sides


def side_entries(rows: Mapping[Key, Row], tables: list[TableMap]) -> list[tuple[str, Key]]:
    """A side table's rows as (table, key values as text), sorted."""
    keys = {t.name: t.key for t in tables}
    return sorted(
        (r["table_name"], side_key(r["row_key"], keys.get(r["table_name"], [])))
        for r in rows.values()
    )


def _side_problems(
    before: Mapping[Key, Row], after: Mapping[Key, Row], tables: list[TableMap], expected: Erasure
) -> list[str]:
    """The rows of a side table a kept row is listed in: the old ones unchanged, one new one
    for each kept row of the tables that use it."""
    problems = [f"side table row {k!r} changed" for k, r in before.items() if after.get(k) != r]
    added = {k: r for k, r in after.items() if k not in before}
    wanted = sorted(
        (t.name, tuple(str(v) for v in key))
        for t in tables
        for key in expected.masked.get(t.name, set())
    )
    if side_entries(added, tables) != wanted:
        problems.append(f"side table rows {side_entries(added, tables)!r}, expected {wanted!r}")
    problems += [
        f"side table row {k!r} has no date" for k, r in added.items() if not r["restricted_at"]
    ]
    return problems


def expected_counts(mapping: Datastore, expected: Erasure) -> dict[str, dict[str, int]]:
    """The per-table figures an erasure Report must show."""
    counts: dict[str, dict[str, int]] = {}
    for table in mapping.tables:
        name = table.name
        kept = len(expected.masked.get(name, set()))
        counts[name] = {
            "found": len(expected.found.get(name, set())),
            Outcome.DELETED.value: len(expected.deleted.get(name, set())),
            _kept_figure(table): kept,
            Outcome.UNLINKED.value: len(expected.unlinked.get(name, {})),
            Outcome.RESTRICTED.value: kept if table.restriction is not None else 0,
        }
    return counts


def reported_counts(mapping: Datastore, report: Report) -> dict[str, dict[str, int]]:
    """The same figures as the engine reported them."""
    counts: dict[str, dict[str, int]] = {}
    entries = {entry.table: entry for entry in report.tables}
    for table in mapping.tables:
        entry = entries.get(table.name)
        outcomes = entry.counts if entry else {}
        kept = outcomes.get(Outcome.MASKED, 0)
        if _kept_figure(table) != Outcome.MASKED.value:
            kept += outcomes.get(Outcome.RETAINED, 0)
        counts[table.name] = {
            "found": entry.found if entry else 0,
            Outcome.DELETED.value: outcomes.get(Outcome.DELETED, 0),
            _kept_figure(table): kept,
            Outcome.UNLINKED.value: outcomes.get(Outcome.UNLINKED, 0),
            Outcome.RESTRICTED.value: outcomes.get(Outcome.RESTRICTED, 0),
        }
    return counts


def side_key(row_key: str, key_columns: list[str]) -> tuple[str, ...]:
    """A side table's row_key (JSON of the key values: a list, an object or one value) as
    a tuple of text, in the key's column order."""
    parsed = json.loads(row_key)
    if isinstance(parsed, dict):
        values = [parsed[c] for c in key_columns]
    elif isinstance(parsed, list):
        values = parsed
    else:
        values = [parsed]
    return tuple(str(v) for v in values)
