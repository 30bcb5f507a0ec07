"""The engine at work on requests: when staff start a request, every task in a database
system the manifest maps is done by the engine — the person's data exported for access and
portability, erased, or restricted — and the task is ticked with what was done.

Each run is journalled (`DatastoreRun`) in jagadata's own database:

    running   written and committed before the organisation's database is touched;
    prepared  the report, committed just before the change commits in that database;
    done      the task ticked, the report kept, the export attached — one transaction.

A run that dies (a killed worker, a lost connection) is simply run again by the next attempt:
the organisation's database either committed the whole change or none of it. When the run
was `prepared` and the new attempt finds nothing left to change, the commit had happened, and
the report prepared then is the evidence kept.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.service import Actor
from jagadata.datastores import engine
from jagadata.datastores.errors import DatastoreError
from jagadata.datastores.export import write_export
from jagadata.datastores.models import DatastoreRun, RunStatus
from jagadata.datastores.plan import Operation, Plan, compile_plan
from jagadata.datastores.results import Outcome, Person, Report
from jagadata.datastores.service import pseudonym_key, resolve_url
from jagadata.db.tenancy import across_organisations, scoped_session
from jagadata.i18n import N_, gettext
from jagadata.jobs import JobContext, job
from jagadata.jobs.nudges import enqueue_after_commit
from jagadata.jobs.reconciler import reconciles
from jagadata.law.facts import Right
from jagadata.manifest.schema import Manifest, System
from jagadata.rights import service as requests
from jagadata.rights.models import (
    AttachmentKind,
    RequestAttachment,
    RequestEvent,
    RequestTask,
    RightsRequest,
)
from jagadata.rights.states import EventKind, RequestStatus

logger = logging.getLogger(__name__)

RUN_JOB: Final = "datastores.run_task"

OPERATIONS: Final = {
    Right.ACCESS: Operation.ACCESS,
    Right.PORTABILITY: Operation.ACCESS,
    Right.ERASURE: Operation.ERASE,
    Right.RESTRICTION: Operation.RESTRICT,
}
"""Rights the engine carries out by itself. Rectification needs the corrected values mapped
to columns by a person: `jagadata request run … --set table.column=value`."""

ENGINE: Final = Actor.system("datastore-engine")


def _now() -> datetime:
    return datetime.now(UTC)


def mapped_system(manifest: Manifest, system_id: str) -> System | None:
    """The manifest's system `system_id` when it is a database with a datastore mapping."""
    return next(
        (s for s in manifest.systems if s.id == system_id and s.datastore is not None), None
    )


def person_of(request: RightsRequest) -> Person:
    """The person as the request names them: the identifier they used, by its id and kind."""
    return Person(
        {request.identifier: [request.contact], request.identifier_kind: [request.contact]}
    )


def plan_for(
    manifest: Manifest, request: RightsRequest, system_id: str, operation: Operation | None = None
) -> Plan:
    system = mapped_system(manifest, system_id)
    if system is None or system.datastore is None:
        raise DatastoreError(NOT_MAPPED, where=system_id, hint=NOT_MAPPED_HINT)
    chosen = operation or OPERATIONS.get(Right(request.right))
    if chosen is None:
        raise DatastoreError(NOT_AUTOMATED, where=system_id, hint=NOT_AUTOMATED_HINT)
    return compile_plan(system.datastore, chosen, [person_of(request)], system=system_id)


NOT_MAPPED: Final = N_("this system has no datastore mapping in the manifest in force")
NOT_MAPPED_HINT: Final = N_("add a datastore block to the system (docs/datastores.md)")
NOT_AUTOMATED: Final = N_("the engine does not carry out this right by itself")
NOT_AUTOMATED_HINT: Final = N_("do the task by hand, or run it with `jagadata request run`")


LEASE: Final = timedelta(minutes=30)
"""How long a running attempt is its worker's; a killed worker's run is taken over after."""

IN_PROGRESS: Final = N_("another run of this task has been in progress since {since}")
IN_PROGRESS_HINT: Final = N_("wait for it; if its worker died, it can be run again after {until}")


class RunInProgress(DatastoreError):
    """Another worker holds this task's run; nothing was done."""


def _open_run(
    session: Session, request: RightsRequest, system_id: str, operation: Operation
) -> DatastoreRun:
    """The unfinished run of this task to resume, or a new one — claimed for LEASE."""
    run = session.scalars(
        select(DatastoreRun)
        .where(
            DatastoreRun.request_id == request.id,
            DatastoreRun.system_id == system_id,
            DatastoreRun.operation == operation.value,
            DatastoreRun.status.in_(
                [RunStatus.RUNNING.value, RunStatus.PREPARED.value, RunStatus.FAILED.value]
            ),
        )
        .order_by(DatastoreRun.id.desc())
    ).first()
    if run is None:
        run = DatastoreRun(
            organisation_id=request.organisation_id,
            request_id=request.id,
            system_id=system_id,
            operation=operation.value,
            status=RunStatus.RUNNING.value,
            attempts=0,
            started_at=_now(),
        )
        session.add(run)
    moment = _now()
    if (
        run.status == RunStatus.RUNNING.value
        and run.lease_until is not None
        and run.lease_until > moment
    ):
        raise RunInProgress(
            IN_PROGRESS,
            where=system_id,
            hint=IN_PROGRESS_HINT,
            since=run.started_at.isoformat(timespec="seconds"),
            until=run.lease_until.isoformat(timespec="seconds"),
        )
    run.attempts = (run.attempts or 0) + 1
    if run.status == RunStatus.FAILED.value:
        run.status = RunStatus.RUNNING.value
    run.lease_until = moment + LEASE
    run.error = None
    session.flush()
    return run


def stored_error(error: DatastoreError) -> str:
    """The error as kept on the run: its msgids and values, so it reads in anyone's language."""
    return json.dumps(
        {
            "message": error.message,
            "hint": error.hint,
            "where": error.where,
            "values": {k: str(v) for k, v in error.values.items()},
        },
        ensure_ascii=False,
    )


def error_text(stored: str | None, lang: str) -> str:
    """A run's stored error in `lang`."""
    if not stored:
        return ""
    try:
        parts = json.loads(stored)
        error = DatastoreError(
            parts["message"], where=parts.get("where"), hint=parts.get("hint"), **parts["values"]
        )
    except (ValueError, KeyError, TypeError):
        return stored
    return error.render(lang)


def _changed_nothing(report: Report) -> bool:
    changing = (Outcome.DELETED, Outcome.UNLINKED, Outcome.UPDATED)
    return not any(t.counts.get(o) for t in report.tables for o in changing)


OUTCOME_WORDS: Final = {
    Outcome.DELETED: N_("{count} deleted"),
    Outcome.MASKED: N_("{count} masked"),
    Outcome.RETAINED: N_("{count} kept"),
    Outcome.UPDATED: N_("{count} corrected"),
    Outcome.RESTRICTED: N_("{count} restricted"),
    Outcome.UNLINKED: N_("{count} unlinked"),
}
FOUND_WORDS: Final = N_("{count} found")
NOTHING_FOUND: Final = N_("no rows of the person were found")


def summary_line(report: Mapping[str, Any], lang: str = "id") -> str:
    """The report in one line for the task's note: 'customers: 1 masked; orders: 2 deleted'."""

    def said(message: str, count: int) -> str:
        return gettext(lang, message, "datastores").format(count=count)

    parts = []
    for table in report.get("tables", []):
        counts = [said(OUTCOME_WORDS[o], table[o.value]) for o in Outcome if table.get(o.value)]
        if counts:
            parts.append(f"{table['table']}: {', '.join(counts)}")
        elif table.get("found"):
            parts.append(f"{table['table']}: {said(FOUND_WORDS, table['found'])}")
    return "; ".join(parts) or gettext(lang, NOTHING_FOUND, "datastores")


def run_task(
    session: Session,
    request: RightsRequest,
    task: RequestTask,
    manifest: Manifest,
    *,
    operation: Operation | None = None,
    changes: Mapping[str, Any] | None = None,
    actor: Actor = ENGINE,
    user_id: int | None = None,
) -> DatastoreRun:
    """Carry out `task` in its database and tick it. Commits the session along the way (the
    journal); raises DatastoreError, with the run recorded as failed, when it cannot."""
    plan = plan_for(manifest, request, task.system, operation)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(  # one claimant at a time per request
            select(RightsRequest.id).where(RightsRequest.id == request.id).with_for_update()
        )
    run = _open_run(session, request, task.system, plan.operation)
    prepared = dict(run.report) if run.status == RunStatus.PREPARED.value and run.report else None
    session.commit()
    try:
        system = mapped_system(manifest, task.system)
        assert system is not None and system.datastore is not None
        url = resolve_url(session, request.organisation_id, system.datastore)
        if plan.operation is Operation.ACCESS:
            report, attachment = _export(url, plan, manifest, request)
            session.add(attachment)
            session.flush()
            attachment.task_id = task.id
            kept = report.as_dict()
        else:

            def before_commit(report: Report) -> None:
                run.status = RunStatus.PREPARED.value
                run.report = report.as_dict()
                session.commit()

            with engine.connect(url, schema=system.datastore.connection.schema_name) as conn:
                report = engine.change(
                    conn,
                    plan,
                    key=pseudonym_key(request.organisation_id),
                    changes=changes,
                    before_commit=before_commit,
                )
            kept = report.as_dict()
            if prepared is not None and _changed_nothing(report):
                kept = prepared  # the earlier attempt committed; its report is the evidence
    except DatastoreError as error:
        session.rollback()
        run = session.get(DatastoreRun, run.id) or run
        run.status = RunStatus.FAILED.value
        run.lease_until = None
        run.error = stored_error(error)
        requests.append(
            session,
            request,
            EventKind.NOTE,
            actor,
            {"system": task.system, "engine": plan.operation.value, "failed": error.render("en")},
            at=_now(),
        )
        session.commit()
        raise
    run.status = RunStatus.DONE.value
    run.report = kept
    run.finished_at = _now()
    run.lease_until = None
    if task.done_at is None and request.status == RequestStatus.IN_PROGRESS.value:
        requests.complete_task(
            session,
            request,
            task.id,
            actor=actor,
            user_id=user_id,
            note=f"{plan.operation.value}: {summary_line(kept)}",
        )
    session.commit()
    return run


def _export(
    url: str, plan: Plan, manifest: Manifest, request: RightsRequest
) -> tuple[Report, RequestAttachment]:
    """The person's rows as a zip (data.json, csv/, summary.html), kept with the request."""
    buffer = io.BytesIO()
    with (
        engine.connect(url, schema=plan.datastore.connection.schema_name) as conn,
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        summary = write_export(
            engine.access(conn, plan),
            archive,
            prefix="",
            manifest=manifest,
            system_id=plan.system,
            lang=request.language,
        )
    data = buffer.getvalue()
    report = Report(system=plan.system, operation=Operation.ACCESS.value)
    for table in summary.tables:
        report.table(table.table).found = table.rows
    attachment = RequestAttachment(
        organisation_id=request.organisation_id,
        request_id=request.id,
        kind=AttachmentKind.EXPORT.value,
        filename=f"{plan.system}.zip",
        media_type="application/zip",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=base64.b64encode(data).decode("ascii"),
        uploaded_at=_now(),
    )
    return report, attachment


def automated_tasks(
    manifest: Manifest, request: RightsRequest, tasks: list[RequestTask]
) -> list[RequestTask]:
    """The request's open tasks the engine does by itself."""
    if Right(request.right) not in OPERATIONS:
        return []
    return [t for t in tasks if t.done_at is None and mapped_system(manifest, t.system)]


@requests.on_event
def on_started(session: Session, request: RightsRequest, event: RequestEvent) -> None:
    """Staff started the request: queue the engine for each database task, after commit."""
    if event.kind != EventKind.STARTED.value or Right(request.right) not in OPERATIONS:
        return
    for task in requests.tasks_of(session, request):
        if task.done_at is None:
            enqueue_after_commit(session, RUN_JOB, request.organisation_id, request.id, task.id)


@job(RUN_JOB)
def run_task_job(context: JobContext, organisation_id: int, request_id: int, task_id: int) -> None:
    """The queued engine run for one task; a task that is done, or not in a mapped database,
    is left alone. A failure is on the request's timeline and in the log; staff can retry."""
    factory: sessionmaker[Session] = context.sessions
    with scoped_session(factory, int(organisation_id)) as session:
        request = session.get(RightsRequest, int(request_id))
        task = session.get(RequestTask, int(task_id))
        if request is None or task is None or task.done_at is not None:
            return
        if request.status != RequestStatus.IN_PROGRESS.value:
            return
        _, manifest = requests.manifest_in_force(session, _organisation(session, request))
        if not mapped_system(manifest, task.system):
            return
        try:
            run_task(session, request, task, manifest)
        except RunInProgress:
            logger.info(
                "datastore run for request %s, %s: already in progress",
                request.reference,
                task.system,
            )
        except DatastoreError as error:
            logger.warning(
                "datastore run for request %s, system %s failed: %s",
                request.reference,
                task.system,
                error.render("en"),
            )


def _organisation(session: Session, request: RightsRequest) -> Any:
    from jagadata.orgs.models import Organisation

    organisation = session.get(Organisation, request.organisation_id)
    assert organisation is not None
    return organisation


@reconciles(RUN_JOB)
def stuck_runs(
    *, session: Session, now: datetime, due_before: datetime, limit: int
) -> Iterable[tuple[int, int, int]]:
    """Database tasks of started requests that no run has done, none is doing (a lease still
    held) and none failed (a failure waits for staff): their nudge was lost, or their worker
    died. Tasks in systems the manifest does not map are left to staff."""
    automated = [right.value for right in OPERATIONS]
    busy = (
        select(DatastoreRun.id)
        .where(
            DatastoreRun.request_id == RequestTask.request_id,
            DatastoreRun.system_id == RequestTask.system,
            or_(
                DatastoreRun.status == RunStatus.FAILED.value,
                and_(
                    DatastoreRun.status == RunStatus.RUNNING.value,
                    DatastoreRun.lease_until > now,
                ),
            ),
        )
        .exists()
    )
    started = (
        select(RequestEvent.id)
        .where(
            RequestEvent.request_id == RightsRequest.id,
            RequestEvent.kind == EventKind.STARTED.value,
            RequestEvent.at < due_before,
        )
        .exists()
    )
    with across_organisations(session):
        rows = session.execute(
            select(RightsRequest, RequestTask)
            .join(RequestTask, RequestTask.request_id == RightsRequest.id)
            .where(
                RightsRequest.status == RequestStatus.IN_PROGRESS.value,
                RightsRequest.right.in_(automated),
                RequestTask.done_at.is_(None),
                started,
                ~busy,
            )
            .order_by(RequestTask.id)
            .limit(limit)
        ).all()
        found: list[tuple[int, int, int]] = []
        manifests: dict[int, Manifest | None] = {}
        for request, task in rows:
            if request.organisation_id not in manifests:
                manifests[request.organisation_id] = _manifest_of(session, request)
            manifest = manifests[request.organisation_id]
            if manifest is not None and mapped_system(manifest, task.system):
                found.append((request.organisation_id, request.id, task.id))
    return found


def _manifest_of(session: Session, request: RightsRequest) -> Manifest | None:
    try:
        _, manifest = requests.manifest_in_force(session, _organisation(session, request))
    except requests.RequestProblem:  # no manifest in force: nothing to nudge there
        logger.warning("no manifest in force for organisation %s", request.organisation_id)
        return None
    return manifest
