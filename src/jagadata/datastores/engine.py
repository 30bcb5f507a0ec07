"""Running a plan: access, rectification, restriction and erasure of a person's rows.

    people = [Person.of(email="budi@example.id")]
    plan = compile_plan(datastore, Operation.ACCESS, people, system="shop")
    with connect(url) as conn:
        for rows in access(conn, plan):
            ...

The search is in `search.py`, erasure in `erasure.py`; this module is what callers import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from jagadata.datastores.erasure import (
    MASKED_KEY,
    MASKED_KEY_HINT,
    BeforeCommit,
    erase,
    locked_columns,
    mark_restricted,
    masked_columns,
)
from jagadata.datastores.errors import MappingError
from jagadata.datastores.plan import Operation, Plan, compile_plan
from jagadata.datastores.results import Outcome, Person, Report
from jagadata.datastores.search import Connector, access, check_live, collect
from jagadata.datastores.sql import connect
from jagadata.i18n import N_
from jagadata.manifest.mapping import TableMap

__all__ = [
    "MASKED_KEY",
    "MASKED_KEY_HINT",
    "Connector",
    "Operation",
    "Person",
    "access",
    "change",
    "compile_plan",
    "connect",
    "erase",
    "locked_columns",
    "masked_columns",
    "rectify",
    "restrict",
]

NOT_RESTRICTABLE: Final = N_(
    "no restriction is mapped for this table: the application must stop using these rows"
)
NOT_CORRECTABLE: Final = N_("'{target}' is not a mapped column that may be corrected")
NOT_CORRECTABLE_HINT: Final = N_(
    "name a column as table.column; it must be listed under the table's columns with "
    "correctable: true"
)


def rectify(
    conn: Connector,
    plan: Plan,
    *,
    changes: Mapping[str, Any],
    before_commit: BeforeCommit | None = None,
) -> Report:
    """Write the corrected values (`{"table.column": value}`) into the person's rows."""
    targets: list[tuple[TableMap, str, Any]] = []
    for target, value in changes.items():
        name, _, column = target.partition(".")
        table = plan.datastore.table(name)
        mapped = table.column(column) if table else None
        if table is None or mapped is None or not mapped.correctable:
            raise MappingError(
                NOT_CORRECTABLE, where=plan.system, hint=NOT_CORRECTABLE_HINT, target=target
            )
        targets.append((table, column, value))
    report = Report(system=plan.system, operation=Operation.RECTIFY.value)
    with conn.writing():
        check_live(conn, plan)
        found = collect(conn, plan)
        for name in plan.tables_in_order:
            report.table(name).found = len(found[name].rows) if name in found else 0
        for table, column, value in targets:
            keys = sorted(found[table.name].rows, key=repr) if table.name in found else []
            updated = 0
            for i in range(0, len(keys), plan.datastore.batch_size):
                batch = keys[i : i + plan.datastore.batch_size]
                updated += conn.update_rows(table, batch, {column: value})
            report.table(table.name).add(Outcome.UPDATED, updated)
        if before_commit is not None:
            before_commit(report)
    return report


def restrict(conn: Connector, plan: Plan, *, before_commit: BeforeCommit | None = None) -> Report:
    """Mark the person's rows restricted where the mapping says how (Art. 11)."""
    report = Report(system=plan.system, operation=Operation.RESTRICT.value)
    with conn.writing():
        check_live(conn, plan)
        found = collect(conn, plan)
        for name in plan.tables_in_order:
            table = plan.table(name)
            entry = report.table(name)
            keys = sorted(found[name].rows, key=repr) if name in found else []
            entry.found = len(keys)
            if not keys:
                continue
            if table.restriction is None:
                entry.reason = NOT_RESTRICTABLE
                continue
            entry.add(Outcome.RESTRICTED, mark_restricted(conn, plan, table, keys))
        if before_commit is not None:
            before_commit(report)
    return report


def change(
    conn: Connector,
    plan: Plan,
    *,
    key: bytes = b"",
    changes: Mapping[str, Any] | None = None,
    before_commit: BeforeCommit | None = None,
) -> Report:
    """Run a rectification, restriction or erasure plan."""
    if plan.operation is Operation.ERASE:
        return erase(conn, plan, key=key, before_commit=before_commit)
    if plan.operation is Operation.RECTIFY:
        return rectify(conn, plan, changes=changes or {}, before_commit=before_commit)
    if plan.operation is Operation.RESTRICT:
        return restrict(conn, plan, before_commit=before_commit)
    raise ValueError(f"{plan.operation} reads; use access()")
