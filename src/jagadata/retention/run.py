"""Running a retention sweep: expired rows deleted or anonymised in bounded batches.

Each batch is its own short transaction in the organisation's database: at most `batch_size`
keys, read in key order after the last key handled, changed, committed. Right after, the
batch's progress is committed in jagadata's database (`RetentionProgress`). A sweep that dies
is resumed with the same moment and from the last key recorded, so it ends exactly where an
uninterrupted one would; should it die between the two commits, the one batch is handled
again and changes nothing more (a deleted row is gone, a masked value masks to itself).

Anonymising masks the table's mapped columns as erasure does (`jagadata.datastores.masking`,
the organisation's pseudonym key). Rows of a person with an open request are left alone and
counted; a finished run keeps its report — counts per table, rule, legal source, SQL, start
and end — as evidence, and a second run finds nothing more to change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.audit.service import Actor, record
from jagadata.datastores import engine
from jagadata.datastores.automation import person_of
from jagadata.datastores.errors import DatastoreError, MappingError, MaskImpossible
from jagadata.datastores.masking import (
    ColumnShape,
    constant_for,
    is_constant,
    masked_value,
    validate_mask,
)
from jagadata.datastores.service import pseudonym_key, resolve_url
from jagadata.datastores.sql import Key, SqlConnector, render
from jagadata.i18n import N_, gettext
from jagadata.manifest.mapping import ColumnMap
from jagadata.manifest.schema import Manifest, RetentionAction
from jagadata.orgs.models import Organisation
from jagadata.retention.models import RetentionProgress, RetentionRun, SweepStatus
from jagadata.retention.plan import (
    BUILT_IN,
    Sweep,
    Window,
    action_statement,
    check_live,
    conflicts_of,
    connect_to,
    expired_condition,
    held_for_requests,
    key_in,
    open_requests,
    sweeps_of,
    table_clause,
    window_for,
)

LEASE: Final = timedelta(minutes=10)
"""How long a running sweep is its process's; renewed at every batch."""

SWEEPER: Final = Actor.system("retention-sweep")

IN_PROGRESS: Final = N_("another retention sweep of this organisation is running since {since}")
IN_PROGRESS_HINT: Final = N_("wait for it; if its process died, it is resumed after {until}")

STOPPED: Final = N_(
    "the sweep of this database stopped here; the batches committed before stay done, and the "
    "next sweep starts again from the rows still due"
)

OnBatch = Callable[[Sweep, int], None]
"""Told after each committed batch how many expired rows it looked at (for a progress bar)."""


class SweepInProgress(Exception):
    """Another process holds the organisation's sweep; nothing was done."""

    def __init__(self, since: datetime, until: datetime) -> None:
        self.since, self.until = since, until
        super().__init__(self.render("en"))

    def render(self, lang: str) -> str:
        values = {"since": f"{self.since:%Y-%m-%d %H:%M} UTC", "until": f"{self.until:%H:%M} UTC"}
        return (
            gettext(lang, IN_PROGRESS, "retention").format(**values)
            + " — "
            + gettext(lang, IN_PROGRESS_HINT, "retention").format(**values)
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def open_run(
    session: Session,
    organisation: Organisation,
    *,
    system: str | None,
    trigger: str,
    now: datetime | None = None,
) -> RetentionRun:
    """The unfinished sweep to resume, or a new one measured at `now`; claimed for LEASE."""
    clock = _now()
    moment = now or clock
    unfinished = session.scalars(
        select(RetentionRun)
        .where(
            RetentionRun.organisation_id == organisation.id,
            RetentionRun.status == SweepStatus.RUNNING.value,
        )
        .order_by(RetentionRun.id.desc())
    ).all()
    for other in unfinished:
        lease = _aware(other.lease_until) if other.lease_until else None
        if lease is not None and lease > clock:
            raise SweepInProgress(_aware(other.started_at), lease)
    run = next((r for r in unfinished if r.system_id == system), None)
    if run is None:
        run = RetentionRun(
            organisation_id=organisation.id,
            system_id=system,
            trigger=trigger,
            status=SweepStatus.RUNNING.value,
            cutoff=moment,
            started_at=moment,
        )
        session.add(run)
    run.lease_until = clock + LEASE
    session.commit()
    return run


@dataclass
class _Masks:
    constants: dict[str, Any]
    varying: list[ColumnMap]
    shapes: Mapping[str, ColumnShape]


def _masks(conn: SqlConnector, sweep: Sweep) -> _Masks:
    """The columns anonymising writes, checked against the live columns before anything runs."""
    table = sweep.table
    shapes = conn.shapes(table)
    locked = engine.locked_columns(table)
    columns = engine.masked_columns(table)
    where = f"{sweep.system}.{table.name}"
    conn.check(table, [c.name for c in columns], where)
    for column in columns:
        if column.name in locked:
            raise MappingError(
                engine.MASKED_KEY,
                where=f"{where}.{column.name}",
                hint=engine.MASKED_KEY_HINT,
                column=column.name,
            )
        try:
            validate_mask(column, shapes[column.name])
        except MaskImpossible as error:
            raise MaskImpossible(
                error.message, where=f"{where}.{column.name}", hint=error.hint, **error.values
            ) from None
    constants = {
        c.name: constant_for(c, shapes[c.name]) for c in columns if is_constant(c, shapes[c.name])
    }
    varying = [c for c in columns if c.name not in constants]
    return _Masks(constants, varying, shapes)


@dataclass
class _Batch:
    """One batch's rows: their keys, and the old values of columns masked per row."""

    keys: list[Key]
    values: list[tuple[Any, ...]]


class _TableSweep:
    """One table's sweep within a run, batch by batch."""

    def __init__(
        self,
        conn: SqlConnector,
        sweep: Sweep,
        window: Window,
        held: set[Key],
        key: bytes,
    ) -> None:
        self.conn, self.sweep, self.window, self.held, self.key = conn, sweep, window, held, key
        self.shape = check_live(conn, sweep)
        anonymise = sweep.action is RetentionAction.ANONYMISE
        self.masks = _masks(conn, sweep) if anonymise else None
        varying = [c.name for c in self.masks.varying] if self.masks else []
        self.t = table_clause(sweep, varying)
        self.key_columns = [self.t.c[k] for k in sweep.table.key]
        self.value_columns = [self.t.c[c] for c in varying]
        self.expired = expired_condition(sweep, self.t, self.shape, window)

    def read(self, last: Key | None) -> _Batch:
        condition = self.expired
        if last is not None:
            after = sa.tuple_(*self.key_columns) > sa.tuple_(*(sa.literal(v) for v in last))
            if len(self.key_columns) == 1:
                after = self.key_columns[0] > sa.bindparam("last", last[0])
            condition = sa.and_(condition, after)
        statement = (
            sa.select(*self.key_columns, *self.value_columns)
            .where(condition)
            .order_by(*self.key_columns)
            .limit(self.sweep.datastore.batch_size)
        )
        return self._batch(statement)

    def read_carried(self) -> _Batch:
        keys = list(self.window.carried)
        if not keys:
            return _Batch([], [])
        statement = sa.select(*self.key_columns, *self.value_columns).where(
            key_in(self.t, self.sweep.table, keys)
        )
        return self._batch(statement)

    def _batch(self, statement: sa.Select[Any]) -> _Batch:
        width = len(self.key_columns)
        rows = [tuple(r) for r in self.conn.connection.execute(statement)]
        return _Batch([r[:width] for r in rows], [r[width:] for r in rows])

    def apply(self, batch: _Batch) -> tuple[int, list[Key]]:
        """Delete or anonymise the batch's rows except those held: (rows changed, held keys)."""
        todo = [(k, v) for k, v in zip(batch.keys, batch.values, strict=True) if k not in self.held]
        held = [k for k in batch.keys if k in self.held]
        keys = [k for k, _ in todo]
        if not keys:
            return 0, held
        table = self.sweep.table
        if self.masks is None:
            self.conn.delete_rows(table, keys)
            return len(keys), held
        if self.masks.constants:
            self.conn.update_rows(table, keys, self.masks.constants)
        if self.masks.varying:
            changes = []
            for row_key, old in todo:
                values = {}
                for column, value in zip(self.masks.varying, old, strict=True):
                    new = masked_value(column, self.masks.shapes[column.name], value, key=self.key)
                    if new != value:
                        values[column.name] = new
                if values:
                    changes.append((row_key, values))
            self.conn.update_each(table, changes)
        return len(keys), held


def _progress(
    session: Session, run: RetentionRun, sweep: Sweep, window: Window
) -> RetentionProgress:
    progress = session.scalars(
        select(RetentionProgress).where(
            RetentionProgress.run_id == run.id,
            RetentionProgress.system_id == sweep.system,
            RetentionProgress.table_name == sweep.table.name,
        )
    ).one_or_none()
    if progress is None:
        progress = RetentionProgress(
            organisation_id=run.organisation_id,
            run_id=run.id,
            system_id=sweep.system,
            table_name=sweep.table.name,
            rule_id=sweep.rule.id,
            action=sweep.action.value,
            threshold=sweep.threshold,
            done=0,
            skipped=0,
            finished=False,
        )
        session.add(progress)
        session.commit()
    return progress


def _json_key(key: Key) -> list[Any]:
    return [part if isinstance(part, int | str) else str(part) for part in key]


def _sweep_table(
    session: Session,
    run: RetentionRun,
    table_sweep: _TableSweep,
    progress: RetentionProgress,
    on_batch: OnBatch | None,
) -> None:
    conn, sweep = table_sweep.conn, table_sweep.sweep
    anonymise = sweep.action is RetentionAction.ANONYMISE

    def commit(done: int, held: Sequence[Key]) -> None:
        progress.done += done
        progress.skipped += len(held)
        if anonymise and held:
            progress.carried = [*(progress.carried or []), *(_json_key(k) for k in held)]

    last: Key | None = tuple(progress.last_key) if progress.last_key else None
    while True:
        with conn.writing():
            batch = table_sweep.read(last)
            done, held = table_sweep.apply(batch)
        commit(done, held)
        if batch.keys:
            last = batch.keys[-1]
            progress.last_key = _json_key(last)
        run.lease_until = _now() + LEASE
        session.commit()
        if on_batch is not None:
            on_batch(sweep, len(batch.keys))
        if len(batch.keys) < sweep.datastore.batch_size:
            break
    if table_sweep.window.carried:
        with conn.writing():
            batch = table_sweep.read_carried()
            done, held = table_sweep.apply(batch)
        commit(done, held)
    progress.finished = True
    session.commit()


def _entry(sweep: Sweep, progress: RetentionProgress, sql: list[str]) -> dict[str, Any]:
    return {
        "system": sweep.system,
        "table": sweep.table.name,
        "rule": sweep.rule.id,
        "rule_name": sweep.rule.name.get("id"),
        "period": str(sweep.rule.period),
        "since": sweep.since,
        "threshold": sweep.threshold.isoformat(),
        "rule_action": sweep.rule.action.value,
        "action": sweep.action.value,
        "reason": {"message": sweep.reason, "values": dict(sweep.values)} if sweep.reason else None,
        "legal_source": sweep.legal_source,
        "sql": sql,
        "done": progress.done,
        "skipped": progress.skipped,
        "finished": progress.finished,
    }


def run_retention(
    session: Session,
    organisation: Organisation,
    manifest: Manifest,
    *,
    system: str | None = None,
    trigger: str = "cli",
    on_batch: OnBatch | None = None,
    now: datetime | None = None,
) -> RetentionRun:
    """Sweep the organisation's mapped databases (or one system) and keep the report."""
    run = open_run(session, organisation, system=system, trigger=trigger, now=now)
    cutoff = _aware(run.cutoff)
    sweeps, waiting, problems = sweeps_of(manifest, cutoff, run.system_id)
    people = [person_of(r) for r in open_requests(session, organisation.id)]
    key = pseudonym_key(organisation.id)
    tables: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    by_system: dict[str, list[Sweep]] = {}
    for sweep in sweeps:
        by_system.setdefault(sweep.system, []).append(sweep)
    for system_id, group in by_system.items():
        datastore = group[0].datastore
        try:
            url = resolve_url(session, organisation.id, datastore, org_slug=organisation.slug)
            with connect_to(url, datastore) as conn:
                held = held_for_requests(conn, system_id, datastore, people)
                for sweep in group:
                    window = window_for(session, organisation.id, sweep, before_run=run.id)
                    progress = _progress(session, run, sweep, window)
                    table_sweep = _TableSweep(
                        conn, sweep, window, held.get(sweep.table.name, set()), key
                    )
                    sql = [
                        render(sa.select(*table_sweep.key_columns).where(table_sweep.expired),
                               conn.dialect),
                        render(action_statement(sweep, table_sweep.t), conn.dialect),
                    ]  # fmt: skip
                    if not progress.finished:
                        _sweep_table(session, run, table_sweep, progress, on_batch)
                    tables.append(_entry(sweep, progress, sql))
        except DatastoreError as error:
            session.rollback()
            errors.append({"where": system_id, "message": str(error), "note": STOPPED})
    finished = _now()
    run.report = {
        "cutoff": cutoff.isoformat(),
        "started_at": _aware(run.started_at).isoformat(),
        "finished_at": finished.isoformat(),
        "trigger": run.trigger,
        "tables": tables,
        "waiting": [
            {"system": w.system, "table": w.table, "rule": w.rule, "message": w.message}
            for w in waiting
        ],
        "conflicts": [
            {"where": c.where, "message": c.message, "values": dict(c.values)}
            for c in conflicts_of(manifest, run.system_id)
        ],
        "built_in": [{"what": what, "job": job} for what, job in BUILT_IN],
        "errors": errors,
        "problems": [{"where": where, "message": str(error)} for where, error in problems],
        "open_requests": len(people),
    }
    run.status = SweepStatus.FAILED.value if errors else SweepStatus.DONE.value
    run.error = "; ".join(e["message"] for e in errors) or None
    run.finished_at = finished
    run.lease_until = None
    record(
        session=session,
        organisation_id=organisation.id,
        actor=SWEEPER,
        action="retention.swept",
        target_type="retention_run",
        target_id=run.id,
        details={
            "status": run.status,
            "deleted": sum(t["done"] for t in tables if t["action"] == "delete"),
            "anonymised": sum(t["done"] for t in tables if t["action"] == "anonymise"),
            "skipped": sum(t["skipped"] for t in tables),
        },
    )
    session.commit()
    return run
