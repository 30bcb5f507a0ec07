"""Enqueue after commit: a worker must never look for a row that is not committed yet.

A service adds its rows to the caller's session and calls `enqueue_after_commit`; the nudge
reaches the queue only when that transaction commits, and is dropped if it rolls back. A nudge
that cannot be sent (the queue is down) is logged and left to the reconciler.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from jagadata.jobs.queue import current_queue
from jagadata.jobs.registry import JobId

logger = logging.getLogger(__name__)

_NUDGES: Final = "jagadata.jobs.nudges"


@dataclass(frozen=True)
class Nudge:
    name: str
    ids: tuple[JobId, ...]
    at: datetime | None = None


def enqueue_after_commit(
    session: Session, name: str, *ids: JobId, at: datetime | None = None
) -> None:
    """Enqueue job `name` on `ids` once the session's current transaction commits."""
    pending: list[Nudge] | None = session.info.get(_NUDGES)
    if pending is None:
        pending = session.info[_NUDGES] = []
        event.listen(session, "after_commit", _send_nudges)
        event.listen(session, "after_transaction_end", _forget_nudges)
    pending.append(Nudge(name=name, ids=ids, at=at))


def pending_nudges(session: Session) -> tuple[Nudge, ...]:
    """The nudges waiting for this session's commit (for tests and diagnostics)."""
    return tuple(session.info.get(_NUDGES, ()))


def _send_nudges(session: Session) -> None:
    nudges: list[Nudge] = session.info.get(_NUDGES, [])
    ready, nudges[:] = list(nudges), []
    if not ready:
        return
    try:
        queue = current_queue()
    except Exception as error:
        _lost(ready, error)
        return
    for position, nudge in enumerate(ready):
        try:
            queue.enqueue(nudge.name, *nudge.ids, at=nudge.at)
        except Exception as error:
            _lost(ready[position:], error)
            return


def _forget_nudges(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended: nudges were sent on commit, or are void after rollback."""
    if transaction.parent is None:
        session.info.get(_NUDGES, []).clear()


def _lost(nudges: list[Nudge], error: Exception) -> None:
    logger.warning(
        "could not enqueue %d job(s) after commit (%s: %s); the reconciler will pick them up",
        len(nudges),
        error.__class__.__name__,
        str(error).splitlines()[0] if str(error) else "",
    )
