"""What the datastore engine takes and gives: a person's identities, the rows found, and the
per-table report of what a request changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from jagadata.manifest.mapping import TableMap


@dataclass(frozen=True, slots=True)
class Person:
    """One person as a request names them: identity kind (email, phone, nik, reference) or a
    request identifier's id, to the values given. Values are as typed; the engine normalises."""

    identities: Mapping[str, Sequence[str]]

    @classmethod
    def of(cls, **identities: str | Sequence[str]) -> Person:
        return cls(
            {k: ([v] if isinstance(v, str) else list(v)) for k, v in identities.items() if v}
        )


@dataclass(frozen=True, slots=True)
class Rows:
    """A batch of one table's rows that belong to the person, as read. A table may come in
    several batches, not always one after another (it can be reached by several paths);
    a row never comes twice."""

    table: TableMap
    columns: tuple[str, ...]
    rows: Sequence[tuple[Any, ...]]

    def categories(self) -> dict[str, str]:
        """Column name to the manifest's data category, for the mapped columns."""
        return {c.name: c.category for c in self.table.columns}


class Outcome(StrEnum):
    DELETED = "deleted"
    MASKED = "masked"
    RETAINED = "retained"
    UPDATED = "updated"
    RESTRICTED = "restricted"
    UNLINKED = "unlinked"
    """A reference in someone else's row set to null so the person's row could go."""


@dataclass(slots=True)
class TableReport:
    table: str
    found: int = 0
    counts: dict[Outcome, int] = field(default_factory=dict)
    reason: str | None = None
    """Why rows were kept or masked rather than deleted: the legal hold or the reference."""
    legal_source: str | None = None

    def add(self, outcome: Outcome, count: int) -> None:
        if count:
            self.counts[outcome] = self.counts.get(outcome, 0) + count

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "found": self.found,
            **{outcome.value: n for outcome, n in sorted(self.counts.items())},
            **({"reason": self.reason} if self.reason else {}),
            **({"legal_source": self.legal_source} if self.legal_source else {}),
        }


@dataclass(slots=True)
class Report:
    """What one operation did in one datastore, table by table, in plan order."""

    system: str
    operation: str
    tables: list[TableReport] = field(default_factory=list)

    def table(self, name: str) -> TableReport:
        for entry in self.tables:
            if entry.table == name:
                return entry
        entry = TableReport(table=name)
        self.tables.append(entry)
        return entry

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "operation": self.operation,
            "tables": [t.as_dict() for t in self.tables],
        }
