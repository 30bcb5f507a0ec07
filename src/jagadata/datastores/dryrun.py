"""The SQL a plan will run, step by step, for a person to read before anything runs
(`jagadata request plan`): its starts, one query per table per level, then for erasure the
unlinks, the masks of rows that may stay and the deletes, children first. Values are shown as
placeholders: a person's identities never appear in it."""

from __future__ import annotations

import sqlalchemy as sa

from jagadata.datastores.identity import uses_expression
from jagadata.datastores.plan import Operation, Plan
from jagadata.datastores.sql import (
    Condition,
    key_condition,
    match_condition,
    render,
    sa_table,
    select_statement,
)


def dry_run(plan: Plan, dialect: str = "postgresql") -> list[str]:
    """The SQL a plan runs, step by step: its starts, then one query per reference followed,
    then (for erasure) the unlinks, masks and deletes — values as placeholders."""
    schema = plan.datastore.connection.schema_name
    statements: list[str] = []
    for start in plan.starts:
        table = plan.table(start.table)
        conditions = [
            Condition((c.column,), list(values), uses_expression(c))
            for c, values in start.identities
        ]
        statements.append(render(select_statement(table, conditions, schema), dialect))
    for name in plan.tables_in_order:
        edges = plan.edges_into(name)
        if edges:
            conditions = [Condition(e.target_columns, [None]) for e in edges]
            statements.append(
                render(select_statement(plan.table(name), conditions, schema), dialect)
            )
    if plan.operation is Operation.ERASE:
        statements += _erase_statements(plan, dialect, schema)
    return statements


def _erase_statements(plan: Plan, dialect: str, schema: str | None) -> list[str]:
    """Unlinks, then masks of the rows that stay (a hold, `erase: mask`, or — only for the
    rows a kept row points at — a RESTRICT foreign key), then deletes children first."""
    out: list[str] = []
    for link in plan.links:
        t = sa_table(plan.table(link.table), link.columns, schema)
        statement = (
            sa.update(t)
            .where(match_condition(t, Condition(link.columns, [None])))
            .values({c: None for c in link.columns})
        )
        out.append(render(statement, dialect))
    may_stay = {r.target for r in plan.restraints}
    deleting = []
    for name in plan.tables_in_order:
        table = plan.table(name)
        kept = table.hold is not None or table.erase.value == "mask"
        if kept or name in may_stay:
            masked = [c.name for c in table.columns if c.mask.value != "keep"]
            if masked:
                t = sa_table(table, [*table.key, *masked], schema)
                placeholder = [(None,) * len(table.key)]
                statement = (
                    sa.update(t)
                    .where(key_condition(t, table.key, placeholder))
                    .values({c: sa.bindparam(f"masked_{c}", required=False) for c in masked})
                )
                out.append(render(statement, dialect))
        if not kept:
            deleting.append(name)
    for name in plan.delete_order(deleting):
        table = plan.table(name)
        t = sa_table(table, table.key, schema)
        placeholder = [(None,) * len(table.key)]
        out.append(render(sa.delete(t).where(key_condition(t, table.key, placeholder)), dialect))
    return out
