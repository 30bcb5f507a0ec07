"""A request compiled against a datastore mapping: where the search starts, which references
it follows, in which order — checked before anything runs.

The mapping is a graph: tables are nodes, references are edges. The search starts at the
tables with identity columns and goes breadth-first:

- `follow: child`  — rows of the referencing table that point at rows already reached;
- `follow: parent` — rows the reached rows point at;
- `follow: none`   — not the person's (a referral, a teacher); erasure only cuts the link.

A mapped table the search cannot reach is an error here, before any statement runs: a request
must never be reported complete with a table left out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from jagadata.datastores.errors import MappingError
from jagadata.datastores.identity import lookup_for_people
from jagadata.datastores.results import Person
from jagadata.i18n import N_
from jagadata.manifest.mapping import (
    Datastore,
    Follow,
    IdentityColumn,
    Reference,
    RowRule,
    TableMap,
)


class Operation(StrEnum):
    ACCESS = "access"
    RECTIFY = "rectify"
    RESTRICT = "restrict"
    ERASE = "erase"


@dataclass(frozen=True, slots=True)
class Start:
    """Rows of `table` whose identity columns hold one of the person's identities."""

    table: str
    identities: tuple[tuple[IdentityColumn, tuple[str, ...]], ...]
    """Each identity column with the stored forms to look up."""


@dataclass(frozen=True, slots=True)
class Edge:
    """Rows of `target` whose `target_columns` equal `source_columns` of rows reached in
    `source`."""

    source: str
    source_columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]
    holder: str
    """The table that holds the reference (its columns point at the other table)."""
    reference: Reference = field(hash=False, compare=False)

    @property
    def into_child(self) -> bool:
        """True when the target is the referencing table (follow: child)."""
        return self.target == self.holder


@dataclass(frozen=True, slots=True)
class Link:
    """A reference the person does not own (`follow: none`): `table.columns` point at
    `target.target_columns`; erasing a target row sets these columns to null in rows left."""

    table: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Restraint:
    """A foreign key that stops a row from going while a row that stays points at it (ON
    DELETE RESTRICT / NO ACTION, the default of a declared key), or that would take the row
    that stays with it (ON DELETE CASCADE)."""

    table: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    system: str
    operation: Operation
    datastore: Datastore
    people: tuple[Person, ...]
    starts: tuple[Start, ...]
    edges: tuple[Edge, ...]
    links: tuple[Link, ...]
    restraints: tuple[Restraint, ...]
    levels: dict[str, int] = field(hash=False)
    """Each table's distance from an identity: the order the search reaches them in."""

    def table(self, name: str) -> TableMap:
        table = self.datastore.table(name)
        assert table is not None  # compile_plan checked every name
        return table

    def edges_into(self, table: str) -> list[Edge]:
        return [edge for edge in self.edges if edge.target == table]

    @property
    def tables_in_order(self) -> list[str]:
        return sorted(self.levels, key=lambda name: (self.levels[name], name))

    def delete_order(self, tables: Sequence[str]) -> list[str]:
        """Children before parents: a table no other remaining table points at goes first."""
        remaining = set(tables)
        points_at: dict[str, set[str]] = {
            name: {r.table for r in self.table(name).references if r.table != name} & remaining
            for name in tables
        }
        order: list[str] = []
        while remaining:
            free = sorted(
                (n for n in remaining if not any(n in points_at[o] for o in remaining if o != n)),
                key=lambda n: (-self.levels[n], n),
            ) or sorted(remaining, key=lambda n: (-self.levels[n], n))  # a cycle: deepest first
            order.append(free[0])
            remaining.discard(free[0])
        return order


UNKNOWN_TABLE: Final = N_("the reference points at table '{table}', which is not in the mapping")
UNKNOWN_TABLE_HINT: Final = N_("add the table to the mapping, or remove the reference")
WIDTH_MISMATCH: Final = N_(
    "the reference has {given} column(s) but points at {wanted} column(s) of '{table}'"
)
WIDTH_MISMATCH_HINT: Final = N_(
    "list as many columns in 'columns' as in 'to' (or as the key of the table pointed at)"
)
NOWHERE_TO_START: Final = N_("no table has an identity column: there is nowhere to start")
NOWHERE_TO_START_HINT: Final = N_(
    "add 'identities' (an email, phone, NIK or customer number column) to the table where "
    "people are recorded"
)
UNREACHABLE: Final = N_(
    "this table cannot be reached from any identity column, so a person's rows in it would "
    "be missed"
)
UNREACHABLE_HINT: Final = N_(
    "add a reference from it to a table that is reached (declared: false for one with no "
    "foreign key), or an identity column"
)
NO_IDENTITY_GIVEN: Final = N_(
    "none of the identities given can be looked up in this datastore (it searches by {kinds})"
)
NO_IDENTITY_GIVEN_HINT: Final = N_("give the person's {kinds}")
DUPLICATE_COLUMN: Final = N_("column '{column}' is mapped twice in this table")


def _target_columns(reference: Reference, target: TableMap) -> tuple[str, ...]:
    return tuple(reference.to or target.key)


def _check_tables(datastore: Datastore, system: str) -> None:
    for table in datastore.tables:
        names = [c.name for c in table.columns]
        for name in names:
            if names.count(name) > 1:
                raise MappingError(DUPLICATE_COLUMN, where=f"{system}.{table.name}", column=name)
        for reference in table.references:
            target = datastore.table(reference.table)
            where = f"{system}.{table.name}.{','.join(reference.columns)}"
            if target is None:
                raise MappingError(
                    UNKNOWN_TABLE, where=where, hint=UNKNOWN_TABLE_HINT, table=reference.table
                )
            wanted = _target_columns(reference, target)
            if len(wanted) != len(reference.columns):
                raise MappingError(
                    WIDTH_MISMATCH,
                    where=where,
                    hint=WIDTH_MISMATCH_HINT,
                    given=len(reference.columns),
                    wanted=len(wanted),
                    table=target.name,
                )


def _graph(datastore: Datastore) -> tuple[list[Edge], list[Link], list[Restraint]]:
    edges: list[Edge] = []
    links: list[Link] = []
    restraints: list[Restraint] = []
    for table in datastore.tables:
        for reference in table.references:
            target = datastore.table(reference.table)
            assert target is not None
            to = _target_columns(reference, target)
            columns = tuple(reference.columns)
            if reference.follow is Follow.CHILD:
                edges.append(Edge(target.name, to, table.name, columns, table.name, reference))
            elif reference.follow is Follow.PARENT:
                edges.append(Edge(table.name, columns, target.name, to, table.name, reference))
            else:
                links.append(Link(table.name, columns, target.name, to))
            rule = reference.on_delete or RowRule.RESTRICT
            if reference.declared and rule in (RowRule.RESTRICT, RowRule.CASCADE):
                restraints.append(Restraint(table.name, columns, target.name, to))
    return edges, links, restraints


def _levels(datastore: Datastore, starts: Sequence[str], edges: Sequence[Edge]) -> dict[str, int]:
    levels = dict.fromkeys(starts, 0)
    queue = deque(starts)
    while queue:
        name = queue.popleft()
        for edge in edges:
            if edge.source == name and edge.target not in levels:
                levels[edge.target] = levels[name] + 1
                queue.append(edge.target)
    return levels


def compile_plan(
    datastore: Datastore, operation: Operation, people: Sequence[Person], *, system: str
) -> Plan:
    """The plan of `operation` for `people` in `datastore`, or a MappingError saying what in
    the mapping stops it. Nothing is read or changed here."""
    _check_tables(datastore, system)
    edges, links, restraints = _graph(datastore)
    identity_tables = [t.name for t in datastore.tables if t.identities]
    if not identity_tables:
        raise MappingError(NOWHERE_TO_START, where=system, hint=NOWHERE_TO_START_HINT)
    levels = _levels(datastore, identity_tables, edges)
    for table in datastore.tables:
        if table.name not in levels:
            raise MappingError(UNREACHABLE, where=f"{system}.{table.name}", hint=UNREACHABLE_HINT)
    starts = []
    for table in datastore.tables:
        looked_up = tuple(
            (column, tuple(lookup_for_people(column, people))) for column in table.identities
        )
        looked_up = tuple((column, values) for column, values in looked_up if values)
        if looked_up:
            starts.append(Start(table.name, looked_up))
    if not starts and people:
        kinds = ", ".join(
            sorted({c.identifier or c.kind.value for t in datastore.tables for c in t.identities})
        )
        raise MappingError(
            NO_IDENTITY_GIVEN, where=system, hint=NO_IDENTITY_GIVEN_HINT, kinds=kinds
        )
    return Plan(
        system=system,
        operation=operation,
        datastore=datastore,
        people=tuple(people),
        starts=tuple(starts),
        edges=tuple(edges),
        links=tuple(links),
        restraints=tuple(restraints),
        levels=levels,
    )
