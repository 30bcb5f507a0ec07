"""The request workflow's background work: every five minutes, each organisation's requests
are reminded, escalated, acknowledged or closed as their clocks say (see reminders.py)."""

from __future__ import annotations

import logging

from jagadata.jobs import JobContext, crontab, periodic
from jagadata.rights import (
    callbacks,  # noqa: F401 - a worker sends status callbacks too
    confirmations,  # noqa: F401 - and the person's confirmations
)
from jagadata.rights.download import expire_bundles
from jagadata.rights.reminders import sweep

logger = logging.getLogger(__name__)

SWEEP_JOB = "rights.sweep"


class SweepIncomplete(RuntimeError):
    """Some requests could not be handled this time (logged); the next sweep tries again."""


@periodic(SWEEP_JOB, crontab(minute="*/5"))
def sweep_requests(context: JobContext) -> None:
    """Remind handlers at 50 % and 80 % of a request's time, escalate overdue requests to the
    DPO, acknowledge verified requests, and close requests never verified."""
    report = sweep(sessions=context.sessions, settings=context.settings)
    if report.reminded or report.escalated or report.acknowledged or report.closed:
        logger.info(
            "request sweep: %d reminded, %d escalated, %d acknowledged, %d closed unverified",
            report.reminded,
            report.escalated,
            report.acknowledged,
            report.closed,
        )
    if report.failed:
        raise SweepIncomplete(f"{report.failed} requests could not be handled this time")


@periodic("rights.bundles_expire", crontab(minute="*/15"))
def erase_expired_bundles(context: JobContext) -> None:
    """Erase the copies of access bundles whose download link has expired (their hash stays)."""
    with context.sessions() as session:
        erased = expire_bundles(session)
        session.commit()
    if erased:
        logger.info("erased %d expired download copies", erased)
