"""The consent domain's background work: opt-in requests leave once their time is over."""

from __future__ import annotations

import logging

from jagadata.consent.optin_sweep import sweep_optins
from jagadata.jobs import JobContext, crontab, periodic

log = logging.getLogger(__name__)


@periodic("consent.sweep_optins", crontab(minute="23", hour="3"))
def sweep_optins_job(context: JobContext) -> None:
    """Delete opt-in requests 30 days after they lapsed, and old WhatsApp message ids."""
    with context.sessions() as session:
        removed = sweep_optins(session=session)
    log.info("opt-in sweep removed %d lapsed requests", removed)
