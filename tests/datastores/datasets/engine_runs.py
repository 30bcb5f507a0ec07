"""Running the datastore engine on a test database and reading back what it did, in the
terms the oracles use (canonical rows per table; differences against a snapshot)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from database_state import Key, Snapshot, canonical_row, digits, national_phone, plain_email
from sqlalchemy.engine import make_url

from jagadata.datastores.engine import Operation, access, compile_plan, connect
from jagadata.datastores.results import Person
from jagadata.manifest.mapping import Datastore

ERASURE_KEY = bytes(range(32))
"""The key pseudonyms are made with in these tests."""


def accessed(
    url: str, mapping: Datastore, people: Sequence[Person], system: str
) -> tuple[dict[str, set[tuple[Any, ...]]], int]:
    """The canonical rows access returned per table, and how many rows came in all (a row
    that came twice makes the count larger than the sets)."""
    plan = compile_plan(mapping, Operation.ACCESS, people, system=system)
    found: dict[str, set[tuple[Any, ...]]] = {}
    count = 0
    with connect(url) as conn:
        for batch in access(conn, plan):
            rows = found.setdefault(batch.table.name, set())
            for row in batch.rows:
                rows.add(canonical_row(dict(zip(batch.columns, row, strict=True))))
                count += 1
    return {name: rows for name, rows in found.items() if rows}, count


def changes_problems(
    before: Snapshot,
    after: Snapshot,
    changes: Mapping[str, Mapping[Key, Mapping[str, Any]]],
    *,
    skip: Iterable[str] = (),
) -> list[str]:
    """Differences between `after` and `before` with exactly `changes` applied (tables in
    `skip` are checked by the caller)."""
    problems: list[str] = []
    for name, rows in before.items():
        if name in skip:
            continue
        if set(after[name]) != set(rows):
            problems.append(f"{name}: rows added or gone: {set(after[name]) ^ set(rows)!r}")
            continue
        for key, old_row in rows.items():
            wanted = {**old_row, **changes.get(name, {}).get(key, {})}
            got = after[name][key]
            problems += [
                f"{name}{key!r}.{column}: {old_row[column]!r} -> {got[column]!r}, "
                f"expected {value!r}"
                for column, value in wanted.items()
                if got[column] != value
            ]
    return problems


def dialect_of(url: str) -> str:
    return make_url(url).get_dialect().name


def values_of(people: Iterable[Person]) -> set[str]:
    """Every form of the people's identities that could leak into SQL text."""
    values: set[str] = set()
    for person in people:
        for kind, given in person.identities.items():
            for value in given:
                values |= {value, value.strip(), digits(value) if kind != "email" else value}
                if kind == "email":
                    values |= {plain_email(value)}
                if kind == "phone":
                    national = national_phone(value)
                    values |= {national, "62" + national[1:], "+62" + national[1:]}
    return {v for v in values if len(v) >= 4}


def statement_problems(
    statements: Sequence[str], mapping: Datastore, people: Iterable[Person]
) -> list[str]:
    """Person's values written into SQL text, or table and column names left unquoted."""
    problems: list[str] = []
    values = values_of(people)
    names = {t.name for t in mapping.tables} | {
        c for t in mapping.tables for c in [*t.key, *(i.column for i in t.identities)]
    }
    for sql in statements:
        problems += [f"value {v!r} in: {sql}" for v in values if v.lower() in sql.lower()]
        for name in names:
            for match in re.finditer(rf"(?<![\w]){re.escape(name)}(?![\w])", sql):
                before = sql[match.start() - 1] if match.start() else ""
                after = sql[match.end()] if match.end() < len(sql) else ""
                bind = sql[max(0, match.start() - 2) : match.start()] in ("%(", "@")
                quoted = before in ('"', "`") and after == before
                if not quoted and before != ":" and not bind:
                    problems.append(f"{name} unquoted in: {sql}")
    return problems
