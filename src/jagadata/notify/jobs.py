"""The outbox's background work: deliver one message; find the ones nobody is delivering."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from jagadata.jobs import JobContext, job, reconciles
from jagadata.notify.service import DELIVER_JOB, deliver, stuck_message_ids


@job(DELIVER_JOB)
def deliver_job(context: JobContext, message_id: int) -> None:
    """Deliver outbox message `message_id`; if it failed and waits for another try, schedule it."""
    outcome = deliver(
        sessions=context.sessions,
        settings=context.settings,
        message_id=message_id,
        lease=context.lease,
    )
    if outcome.retry_at is not None:
        context.queue.enqueue(DELIVER_JOB, message_id, at=outcome.retry_at)


@reconciles(DELIVER_JOB)
def stuck_deliveries(
    *, session: Session, now: datetime, due_before: datetime, limit: int
) -> Iterable[tuple[int]]:
    return [
        (message_id,)
        for message_id in stuck_message_ids(
            session=session, now=now, due_before=due_before, limit=limit
        )
    ]
