"""The reconciler: every minute, re-enqueue work the database says is due but nobody is doing.

Each domain tells it how to find its stuck work with `@reconciles("job.name")`: a function that
returns the ids of rows whose job should run now (due for a while, or claimed by a worker whose
lease ran out). Nudging twice is harmless, since every job claims its row before working on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Final, Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from jagadata.db.base import utcnow
from jagadata.jobs.queue import JobContext, JobQueue
from jagadata.jobs.registry import JobId, every_minute, periodic

logger = logging.getLogger(__name__)

GRACE: Final = timedelta(minutes=2)
"""Work due for less than this is left to the nudge that was sent with it."""
BATCH: Final = 1000
"""At most this many ids per job and pass; the next pass takes the rest."""


class StuckWorkFinder(Protocol):
    """The ids of each stuck run: due before `due_before`, or claimed with a lease over by `now`."""

    def __call__(
        self, *, session: Session, now: datetime, due_before: datetime, limit: int
    ) -> Iterable[tuple[JobId, ...]]: ...


F = TypeVar("F", bound=StuckWorkFinder)

FINDERS: Final[dict[str, StuckWorkFinder]] = {}


def reconciles(job_name: str) -> Callable[[F], F]:
    """Register how to find stuck runs of `job_name`."""

    def register(finder: F) -> F:
        FINDERS[job_name] = finder
        return finder

    return register


def reconcile(
    *, sessions: sessionmaker[Session], queue: JobQueue, now: datetime | None = None
) -> dict[str, int]:
    """Nudge every stuck run once; returns how many were nudged per job."""
    now = now or utcnow()
    nudged: dict[str, int] = {}
    for job_name, finder in sorted(FINDERS.items()):
        with sessions() as session:
            found = finder(session=session, now=now, due_before=now - GRACE, limit=BATCH)
            stuck = [tuple(ids) for ids in found]
        for ids in stuck:
            queue.enqueue(job_name, *ids)
        nudged[job_name] = len(stuck)
        if stuck:
            logger.info("reconciler re-enqueued %d %s job(s)", len(stuck), job_name)
    return nudged


@periodic("jobs.reconcile", every_minute())
def reconcile_job(context: JobContext) -> None:
    """Every minute: re-enqueue what is due but not in flight."""
    reconcile(sessions=context.sessions, queue=context.queue)
