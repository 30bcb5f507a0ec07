"""Periodic runs claimed in the database: once per minute slot across every worker, recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from jagadata.db.base import utcnow
from jagadata.jobs.models import PeriodicJobState, RunStatus


def minute_slot(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def claim_slot(*, sessions: sessionmaker[Session], name: str, slot: datetime) -> bool:
    """True when this process may run job `name` for `slot`: nobody has run it for that minute."""
    now = utcnow()
    started = {
        "last_slot": slot,
        "status": RunStatus.RUNNING.value,
        "started_at": now,
        "finished_at": None,
        "last_error": None,
    }
    state = PeriodicJobState
    with sessions() as session:
        claimed = session.execute(
            update(state)
            .where(state.name == name, state.last_slot < slot)
            .values(runs=state.runs + 1, **started)
            .returning(state.name)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if claimed is not None:
            session.commit()
            return True
        if session.get(state, name) is not None:
            return False
        session.add(state(name=name, runs=1, **started))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
        return True


def record_run(
    *, sessions: sessionmaker[Session], name: str, slot: datetime, error: BaseException | None
) -> None:
    """Write how the run for `slot` ended (the error's class only, never its message)."""
    state = PeriodicJobState
    with sessions() as session:
        session.execute(
            update(state)
            .where(state.name == name, state.last_slot == slot)
            .values(
                status=(RunStatus.DONE if error is None else RunStatus.FAILED).value,
                finished_at=utcnow(),
                last_error=None if error is None else error.__class__.__name__,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()


def run_once_per_slot(
    *, sessions: sessionmaker[Session], name: str, run: Callable[[], None]
) -> bool:
    """Run `run` unless another worker already ran job `name` this minute; True if it ran."""
    slot = minute_slot(utcnow())
    if not claim_slot(sessions=sessions, name=name, slot=slot):
        return False
    try:
        run()
    except BaseException as error:
        record_run(sessions=sessions, name=name, slot=slot, error=error)
        raise
    record_run(sessions=sessions, name=name, slot=slot, error=None)
    return True


def periodic_job_states(*, session: Session) -> list[PeriodicJobState]:
    """Every periodic job's latest run, by name (for an operator's overview)."""
    return list(session.scalars(select(PeriodicJobState).order_by(PeriodicJobState.name)))
