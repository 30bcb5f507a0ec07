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
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, MetaData, String, create_engine, event, select

from jagadata.datastores.results import Outcome, Report
from jagadata.manifest.mapping import Datastore, Mask

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


def _mask_problem(mask: Mask, fixed: object, old: Any, new: Any) -> str | None:
    """Why `new` is not what `mask` makes of `old`, or None."""
    if mask is Mask.NULL:
        return None if new is None else "expected NULL"
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
    pseudonyms: dict[Any, set[Any]] = {}
    for name, rows in before.items():
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
                    problem = _mask_problem(mapped.mask, mapped.value, old, new)
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


def expected_counts(mapping: Datastore, expected: Erasure) -> dict[str, dict[str, int]]:
    """The per-table figures an erasure Report must show."""
    counts: dict[str, dict[str, int]] = {}
    for table in mapping.tables:
        name = table.name
        kept = len(expected.masked.get(name, set()))
        counts[name] = {
            "found": len(expected.found.get(name, set())),
            Outcome.DELETED.value: len(expected.deleted.get(name, set())),
            Outcome.MASKED.value: kept,
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
        counts[table.name] = {
            "found": entry.found if entry else 0,
            **{
                outcome.value: outcomes.get(outcome, 0)
                for outcome in (
                    Outcome.DELETED,
                    Outcome.MASKED,
                    Outcome.UNLINKED,
                    Outcome.RESTRICTED,
                )
            },
        }
    return counts


def changed_rows(before: Snapshot, after: Snapshot) -> dict[str, Counter[str]]:
    """Per table, how many rows appeared, disappeared or changed (for failure messages)."""
    summary: dict[str, Counter[str]] = {}
    for name, rows in before.items():
        counter: Counter[str] = Counter()
        counter["gone"] = len(set(rows) - set(after[name]))
        counter["new"] = len(set(after[name]) - set(rows))
        counter["changed"] = sum(
            1 for key in set(rows) & set(after[name]) if rows[key] != after[name][key]
        )
        if +counter:
            summary[name] = +counter
    return summary


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
