"""The datastore engine on a request's page: for each task in a database the manifest maps,
what the engine's last run did (or why it failed), and a button to run it again now."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.audit.service import Actor, record
from jagadata.datastores.automation import (
    OPERATIONS,
    RUN_JOB,
    error_text,
    mapped_system,
    summary_line,
)
from jagadata.datastores.models import DatastoreRun, RunStatus
from jagadata.i18n import N_, gettext
from jagadata.jobs.nudges import enqueue_after_commit
from jagadata.law.facts import Right
from jagadata.manifest.schema import Manifest
from jagadata.rights import service
from jagadata.rights.models import RequestTask, RightsRequest
from jagadata.rights.service import RequestProblem
from jagadata.rights.states import RequestStatus

RUN_LABELS: Final = {
    RunStatus.RUNNING: N_("The engine is working on it (attempt {attempts})."),
    RunStatus.PREPARED: N_("The engine's last attempt stopped while committing; it resumes."),
    RunStatus.DONE: N_("Done by the engine: {summary}"),
    RunStatus.FAILED: N_("The engine could not do it: {error}"),
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "console")


def engine_rows(
    session: Session, found: RightsRequest, manifest: Manifest | None, lang: str
) -> dict[int, dict[str, Any]]:
    """Per task id in a mapped database: the last run's state in words, and whether the
    engine may be asked to run it now."""
    if manifest is None:
        return {}
    runs: dict[str, DatastoreRun] = {}
    for run in session.scalars(
        select(DatastoreRun).where(DatastoreRun.request_id == found.id).order_by(DatastoreRun.id)
    ):
        runs[run.system_id] = run
    rows: dict[int, dict[str, Any]] = {}
    automated = Right(found.right) in OPERATIONS
    for task in service.tasks_of(session, found):
        if not mapped_system(manifest, task.system):
            continue
        last = runs.get(task.system)
        said = None
        if last is not None:
            said = _t(lang, RUN_LABELS[RunStatus(last.status)]).format(
                attempts=last.attempts,
                summary=summary_line(last.report or {}, lang),
                error=error_text(last.error, lang),
            )
        rows[task.id] = {
            "said": said,
            "failed": last is not None and last.status == RunStatus.FAILED.value,
            "may_run": automated
            and task.done_at is None
            and found.status == RequestStatus.IN_PROGRESS.value
            and (last is None or last.status != RunStatus.RUNNING.value),
        }
    return rows


def ask_engine(session: Session, found: RightsRequest, task_id: int, *, user_id: int) -> str:
    """Queue the engine for one task after this transaction commits (audited); a failed run is
    tried again from where it stopped."""
    if Right(found.right) not in OPERATIONS:
        raise RequestProblem("task", "the engine does not carry out this right by itself")
    if found.status != RequestStatus.IN_PROGRESS.value:
        raise RequestProblem("status", "start the request first")
    task = session.get(RequestTask, task_id)
    if task is None or task.request_id != found.id or task.done_at is not None:
        raise RequestProblem("task", "no such open task")
    enqueue_after_commit(session, RUN_JOB, found.organisation_id, found.id, task.id)
    record(
        session=session,
        organisation_id=found.organisation_id,
        actor=Actor.user(user_id),
        action="rights.datastore.run_asked",
        target_type="rights_request",
        target_id=found.reference,
        details={"task": task.position, "system": task.system},
    )
    return "engine"
