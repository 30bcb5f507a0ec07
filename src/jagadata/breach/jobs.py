"""The breach register's background work: every five minutes, open incidents remind the DPO
and owners at 24, 48 and 60 hours after discovery, and escalate once overdue (Art. 46(1))."""

from __future__ import annotations

import logging

from jagadata.breach.reminders import sweep
from jagadata.jobs import JobContext, crontab, periodic

logger = logging.getLogger(__name__)

SWEEP_JOB = "breach.sweep"


class SweepIncomplete(RuntimeError):
    """Some incidents could not be handled this time (logged); the next sweep tries again."""


@periodic(SWEEP_JOB, crontab(minute="*/5"))
def sweep_breaches(context: JobContext) -> None:
    """Remind the DPO and owners of open breaches at 24, 48 and 60 hours; escalate overdue."""
    report = sweep(sessions=context.sessions, settings=context.settings)
    if report.reminded or report.escalated:
        logger.info("breach sweep: %d reminded, %d escalated", report.reminded, report.escalated)
    if report.failed:
        raise SweepIncomplete(f"{report.failed} incidents could not be handled this time")
