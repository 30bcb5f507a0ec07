"""Erasing a person's rows in one transaction per datastore (Art. 8, 43): find them, decide per
row whether it goes or stays (a legal hold, `erase: mask`, or a foreign key from a row that
stays keeps it), cut the links other people's rows hold to rows that go, mask the rows that
stay within their columns, delete the rest children first, and commit — or change nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from jagadata.datastores.errors import MappingError, MaskImpossible
from jagadata.datastores.masking import (
    ColumnShape,
    changes_value,
    constant_for,
    is_constant,
    masked_value,
    validate_mask,
)
from jagadata.datastores.plan import Operation, Plan
from jagadata.datastores.results import Outcome, Report
from jagadata.datastores.search import Connector, Found, check_live, collect
from jagadata.datastores.sql import Condition, Key, now, row_key_text
from jagadata.i18n import N_
from jagadata.manifest.mapping import ColumnMap, Erase, IdentityKind, Mask, TableMap

_DEFAULT_MASKS: Final = {
    IdentityKind.EMAIL: Mask.EMAIL,
    IdentityKind.PHONE: Mask.PHONE,
    IdentityKind.NIK: Mask.PSEUDONYM,
    IdentityKind.REFERENCE: Mask.PSEUDONYM,
}
"""The mask of an identity column the mapping lists only under `identities`: once the row
stays, nothing in it may still lead back to the person."""

HELD: Final = N_("kept under a legal duty; personal columns masked")
MASKED_BY_MAPPING: Final = N_("kept and masked, as the mapping says (erase: mask)")
KEPT_FOR_REFERENCE: Final = N_(
    "kept and masked: rows that stay (in {tables}) point at them through a foreign key"
)
MASKED_KEY: Final = N_(
    "column '{column}' is part of the key or of a foreign key and cannot be masked"
)
MASKED_KEY_HINT: Final = N_("set its mask to 'keep', or let erasure delete the row")


def locked_columns(table: TableMap) -> set[str]:
    """Columns a mask cannot change: the key, and declared foreign keys."""
    locked = set(table.key)
    for reference in table.references:
        if reference.declared:
            locked.update(reference.columns)
    return locked


def masked_columns(table: TableMap) -> list[ColumnMap]:
    """The columns erasure masks in a row that stays: the mapped ones, and identity columns
    listed only as identities (with the mask their kind calls for) unless they are the key."""
    columns = [c for c in table.columns if changes_value(c)]
    listed = {c.name for c in table.columns}
    locked = locked_columns(table)
    for identity in table.identities:
        if identity.column not in listed and identity.column not in locked:
            columns.append(
                ColumnMap(
                    name=identity.column,
                    category="identity",
                    mask=_DEFAULT_MASKS[identity.kind],
                    correctable=False,
                )
            )
    return columns


def _check_masks(conn: Connector, plan: Plan, where: str, table: TableMap) -> list[ColumnMap]:
    locked = locked_columns(table)
    columns = masked_columns(table)
    shapes = conn.shapes(table)
    for column in columns:
        if column.name in locked:
            raise MappingError(
                MASKED_KEY, where=f"{where}.{column.name}", hint=MASKED_KEY_HINT, column=column.name
            )
        try:
            validate_mask(column, shapes[column.name])
        except MaskImpossible as error:
            raise _placed(error, f"{where}.{column.name}") from None
    return columns


def _placed(error: MaskImpossible, where: str) -> MaskImpossible:
    """The same refusal, naming the column it is about."""
    return MaskImpossible(error.message, where=where, hint=error.hint, **error.values)


@dataclass(slots=True)
class _Decision:
    """Per table: which of the person's rows stay (and why) and which go."""

    keep: dict[str, set[Key]] = field(default_factory=lambda: defaultdict(set))
    why: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)


def _decide(conn: Connector, plan: Plan, found: Mapping[str, Found]) -> _Decision:
    decision = _Decision()
    for name, entry in found.items():
        table = plan.table(name)
        if table.hold is not None:
            decision.keep[name].update(entry.rows)
            decision.why[name] = (HELD, {})
        elif table.erase is Erase.MASK:
            decision.keep[name].update(entry.rows)
            decision.why[name] = (MASKED_BY_MAPPING, {})
    # A row that stays keeps every row its foreign keys point at (RESTRICT / NO ACTION),
    # and a row someone else's NOT NULL link points at stays too.
    changed = True
    while changed:
        changed = False
        for restraint in plan.restraints:
            holder, target = found.get(restraint.table), found.get(restraint.target)
            if holder is None or target is None:
                continue
            kept = decision.keep.get(restraint.table, set())
            pointed = {
                tuple(holder.value(holder.rows[k], c) for c in restraint.columns) for k in kept
            }
            for key, row in target.rows.items():
                if key in decision.keep[restraint.target]:
                    continue
                if tuple(target.value(row, c) for c in restraint.target_columns) in pointed:
                    decision.keep[restraint.target].add(key)
                    decision.why.setdefault(
                        restraint.target, (KEPT_FOR_REFERENCE, {"tables": restraint.table})
                    )
                    changed = True
    for link in plan.links:
        target = found.get(link.target)
        if target is None:
            continue
        shapes = conn.shapes(plan.table(link.table))
        if all(shapes[c].nullable for c in link.columns):
            continue
        going = {
            tuple(target.value(row, c) for c in link.target_columns): key
            for key, row in target.rows.items()
            if key not in decision.keep[link.target]
        }
        if not going:
            continue
        own = found.get(link.table)
        linking = plan.table(link.table)
        for columns, rows in conn.find(
            linking, [_condition(link.columns, list(going))], chunk=plan.datastore.batch_size
        ):
            at = [columns.index(c) for c in link.columns]
            key_at = [columns.index(k) for k in linking.key]
            for row in rows:
                if own is not None and tuple(row[i] for i in key_at) in own.rows:
                    continue
                pointed_at = going.get(tuple(row[i] for i in at))
                if pointed_at is not None:
                    decision.keep[link.target].add(pointed_at)
                    decision.why.setdefault(
                        link.target, (KEPT_FOR_REFERENCE, {"tables": link.table})
                    )
    return decision


def _condition(columns: Sequence[str], values: Sequence[Key]) -> Condition:
    return Condition(tuple(columns), [v[0] for v in values] if len(columns) == 1 else list(values))


def _cut_self_references(conn: Connector, table: TableMap, keys: Sequence[Key], batch: int) -> None:
    """Set a table's nullable references to itself to null in the rows about to go, so rows
    that point at each other can go in one statement: InnoDB checks a foreign key row by row,
    and would refuse to delete a parent before the child deleted with it."""
    shapes = conn.shapes(table)
    for reference in table.references:
        if reference.table != table.name or not reference.declared:
            continue
        if not all(shapes[c].nullable for c in reference.columns):
            continue
        for i in range(0, len(keys), batch):
            conn.update_rows(table, keys[i : i + batch], dict.fromkeys(reference.columns))


def _restriction_value(shape: ColumnShape) -> Any:
    if shape.kind == "datetime":
        return now()
    if shape.kind == "date":
        return date.today()
    if shape.kind == "text":
        return "restricted"
    if shape.kind in ("integer", "decimal", "float"):
        return 1
    return True


def mark_restricted(conn: Connector, plan: Plan, table: TableMap, keys: Sequence[Key]) -> int:
    restriction = table.restriction
    if restriction is None or not keys:
        return 0
    if restriction.column:
        shape = conn.shapes(table)[restriction.column]
        conn.update_rows(table, keys, {restriction.column: _restriction_value(shape)})
        return len(keys)
    assert restriction.table is not None
    stamp = now()
    rows = [
        {"table_name": table.name, "row_key": row_key_text(key), "restricted_at": stamp}
        for key in keys
    ]
    conn.insert_missing(restriction.table, rows, ["table_name", "row_key"])
    return len(keys)


def _mask_rows(
    conn: Connector,
    table: TableMap,
    entry: Found,
    keys: Sequence[Key],
    columns: Sequence[ColumnMap],
    key: bytes,
) -> int:
    shapes = conn.shapes(table)
    constants = {
        c.name: constant_for(c, shapes[c.name]) for c in columns if is_constant(c, shapes[c.name])
    }
    varying = [c for c in columns if c.name not in constants]
    batch = 1000
    ordered = sorted(keys, key=repr)
    if constants:
        for i in range(0, len(ordered), batch):
            conn.update_rows(table, ordered[i : i + batch], constants)
    if varying:
        changes = []
        for row_key in ordered:
            row = entry.rows[row_key]
            values = {}
            for column in varying:
                old = entry.value(row, column.name)
                try:
                    new = masked_value(column, shapes[column.name], old, key=key)
                except MaskImpossible as error:
                    raise _placed(error, f"{table.name}.{column.name}") from None
                if new != old:
                    values[column.name] = new
            if values:
                changes.append((row_key, values))
        conn.update_each(table, changes)
    return len(keys)


BeforeCommit = Callable[[Report], None]
"""Called with the finished report inside the datastore's transaction, just before it commits:
the caller records the report first, so a crash between the two loses no evidence."""


def erase(
    conn: Connector, plan: Plan, *, key: bytes, before_commit: BeforeCommit | None = None
) -> Report:
    """Erase the person's rows in one transaction and say, per table, what went and what
    stayed and why. `key` makes pseudonyms (the same person, the same pseudonym)."""
    report = Report(system=plan.system, operation=Operation.ERASE.value)
    with conn.writing():
        check_live(conn, plan)
        masks = {
            t.name: _check_masks(conn, plan, f"{plan.system}.{t.name}", t)
            for t in plan.datastore.tables
        }
        found = collect(conn, plan)
        decision = _decide(conn, plan, found)
        for name in plan.tables_in_order:
            entry = report.table(name)
            entry.found = len(found[name].rows) if name in found else 0
        going: dict[str, list[Key]] = {
            name: sorted((k for k in entry.rows if k not in decision.keep[name]), key=repr)
            for name, entry in found.items()
        }
        for link in plan.links:
            target = found.get(link.target)
            if target is None or not going.get(link.target):
                continue
            values = sorted(
                {
                    tuple(target.value(target.rows[k], c) for c in link.target_columns)
                    for k in going[link.target]
                },
                key=repr,
            )
            own = sorted(found[link.table].rows, key=repr) if link.table in found else []
            unlinked = conn.unlink(plan.table(link.table), link.columns, values, own)
            report.table(link.table).add(Outcome.UNLINKED, unlinked)
        for name in plan.tables_in_order:  # before the batch: a side table is read first
            kept = sorted(decision.keep.get(name, ()), key=repr)
            added = mark_restricted(conn, plan, plan.table(name), kept)
            report.table(name).add(Outcome.RESTRICTED, added)
        with conn.batched():
            _mask_and_delete(conn, plan, report, found, decision, going, masks, key)
        if before_commit is not None:
            before_commit(report)
    return report


def _mask_and_delete(
    conn: Connector,
    plan: Plan,
    report: Report,
    found: Mapping[str, Found],
    decision: _Decision,
    going: Mapping[str, list[Key]],
    masks: Mapping[str, list[ColumnMap]],
    key: bytes,
) -> None:
    """Mask the rows that stay, then delete the rest children first."""
    for name in plan.tables_in_order:
        kept = sorted(decision.keep.get(name, ()), key=repr)
        if not kept:
            continue
        table = plan.table(name)
        entry = report.table(name)
        entry.add(Outcome.MASKED, _mask_rows(conn, table, found[name], kept, masks[name], key))
        message, details = decision.why[name]
        entry.reason = message.format(**details) if details else message
        if table.hold is not None:
            entry.reason = table.hold.reason.get("id")
            entry.legal_source = table.hold.legal_source
    for name in plan.delete_order([n for n, keys in going.items() if keys]):
        table = plan.table(name)
        keys = going[name]
        _cut_self_references(conn, table, keys, plan.datastore.batch_size)
        for i in range(0, len(keys), plan.datastore.batch_size):
            conn.delete_rows(table, keys[i : i + plan.datastore.batch_size])
        # Every key found in this transaction is gone now, whether this statement or the
        # database's own ON DELETE CASCADE removed it (the row count says only the former).
        report.table(name).add(Outcome.DELETED, len(keys))
