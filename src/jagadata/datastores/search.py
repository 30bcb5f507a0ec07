"""Finding a person's rows: breadth-first over the mapping's references from the identity
columns, one set-based query per table per level (in batches of `batch_size` keys), inside one
consistent snapshot — and the protocol a datastore's connector implements for it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from jagadata.datastores.identity import uses_expression
from jagadata.datastores.masking import ColumnShape
from jagadata.datastores.plan import Edge, Plan
from jagadata.datastores.results import Rows
from jagadata.datastores.sql import Condition, Key
from jagadata.manifest.mapping import TableMap


class Connector(Protocol):
    """What the engine needs of a datastore. `SqlConnector` implements it for SQL databases;
    another store (MongoDB, an HTTP API) implements the same methods."""

    def reading(self) -> Any: ...
    def writing(self) -> Any: ...
    def shapes(self, table: TableMap) -> dict[str, ColumnShape]: ...
    def check(self, table: TableMap, names: Sequence[str], where: str) -> None: ...
    def find(
        self, table: TableMap, conditions: Sequence[Condition], *, chunk: int
    ) -> Iterator[tuple[tuple[str, ...], list[tuple[Any, ...]]]]: ...
    def update_rows(
        self, table: TableMap, keys: Sequence[Key], values: Mapping[str, Any]
    ) -> int: ...
    def update_each(
        self, table: TableMap, changes: Sequence[tuple[Key, Mapping[str, Any]]]
    ) -> int: ...
    def delete_rows(self, table: TableMap, keys: Sequence[Key]) -> int: ...
    def unlink(
        self, table: TableMap, columns: Sequence[str], values: Sequence[Key], keep: Sequence[Key]
    ) -> int: ...
    def insert_missing(
        self, name: str, rows: Sequence[Mapping[str, Any]], unique: Sequence[str]
    ) -> int: ...
    def batched(self) -> Any: ...


@dataclass(slots=True)
class Found:
    """The person's rows of one table, as found."""

    columns: tuple[str, ...] = ()
    rows: dict[Key, tuple[Any, ...]] = field(default_factory=dict)

    def value(self, row: tuple[Any, ...], name: str) -> Any:
        return row[self.columns.index(name)]


def _needed_columns(table: TableMap, plan: Plan) -> list[str]:
    names = list(table.key)
    names += [c.column for c in table.identities]
    names += [c.name for c in table.columns]
    for reference in table.references:
        names += reference.columns
    for edge in plan.edges:
        if edge.source == table.name:
            names += edge.source_columns
        if edge.target == table.name:
            names += edge.target_columns
    for link in plan.links:
        if link.target == table.name:
            names += link.target_columns
    if table.restriction and table.restriction.column:
        names.append(table.restriction.column)
    return list(dict.fromkeys(names))


def check_live(conn: Connector, plan: Plan) -> None:
    for table in plan.datastore.tables:
        conn.check(table, _needed_columns(table, plan), f"{plan.system}.{table.name}")


def walk(conn: Connector, plan: Plan) -> Iterator[Rows]:
    """Breadth-first from the identities: each batch of rows not seen before, as read.
    Only the keys reached and the values the next level looks up stay in memory."""
    batch = plan.datastore.batch_size
    reached: dict[str, set[Key]] = defaultdict(set)
    pending: dict[Edge, set[Key]] = defaultdict(set)
    outgoing: dict[str, list[Edge]] = defaultdict(list)
    for edge in plan.edges:
        outgoing[edge.source].append(edge)

    def take(table: TableMap, conditions: Sequence[Condition]) -> Iterator[Rows]:
        for columns, rows in conn.find(table, conditions, chunk=batch):
            key_at = [columns.index(k) for k in table.key]
            seen = reached[table.name]
            fresh = []
            for row in rows:
                key = tuple(row[i] for i in key_at)
                if key not in seen:
                    seen.add(key)
                    fresh.append(row)
            if not fresh:
                continue
            for edge in outgoing[table.name]:
                at = [columns.index(c) for c in edge.source_columns]
                values = pending[edge]
                for row in fresh:
                    value = tuple(row[i] for i in at)
                    if None not in value:
                        values.add(value)
            yield Rows(table, columns, fresh)

    for start in plan.starts:
        conditions = [
            Condition((column.column,), list(values), uses_expression(column))
            for column, values in start.identities
        ]
        for chunked in _chunks_of(conditions, batch):
            yield from take(plan.table(start.table), chunked)
    while pending:
        level, pending = dict(pending), defaultdict(set)
        by_target: dict[str, list[Condition]] = defaultdict(list)
        for edge, values in level.items():
            ordered = sorted(values, key=repr)
            by_target[edge.target].append(
                Condition(
                    edge.target_columns,
                    [v[0] for v in ordered] if len(edge.target_columns) == 1 else ordered,
                )
            )
        for name in sorted(by_target, key=lambda n: (plan.levels[n], n)):
            for chunked in _chunks_of(by_target[name], batch):
                yield from take(plan.table(name), chunked)


def _chunks_of(conditions: Sequence[Condition], batch: int) -> Iterator[list[Condition]]:
    """The conditions as one OR-ed query when they fit in a batch, else batch by batch."""
    if sum(len(c.values) for c in conditions) <= batch:
        yield list(conditions)
        return
    for condition in conditions:
        values = list(condition.values)
        for i in range(0, len(values), batch):
            yield [Condition(condition.columns, values[i : i + batch], condition.lower)]


def access(conn: Connector, plan: Plan) -> Iterator[Rows]:
    """Every row of the person in every mapped table, batch by batch, in one snapshot."""
    with conn.reading():
        check_live(conn, plan)
        yield from walk(conn, plan)


def collect(conn: Connector, plan: Plan) -> dict[str, Found]:
    """The person's rows of every table, by key (for changes: they fit in memory)."""
    found: dict[str, Found] = {}
    for batch in walk(conn, plan):
        entry = found.setdefault(batch.table.name, Found(batch.columns))
        at = [batch.columns.index(k) for k in batch.table.key]
        for row in batch.rows:
            entry.rows[tuple(row[i] for i in at)] = row
    return found
