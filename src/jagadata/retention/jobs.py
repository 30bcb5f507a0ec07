"""The retention sweep, every day: each organisation's mapped databases are swept of the rows
past the periods its manifest in force promises (Art. 42(1)(a), 43(1)(a))."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.db.tenancy import scope
from jagadata.jobs import JobContext, crontab, periodic
from jagadata.orgs.models import Organisation
from jagadata.retention.builtin import sweep_own
from jagadata.retention.plan import mapped_systems
from jagadata.retention.run import SweepInProgress, run_retention
from jagadata.rights.service import RequestProblem, manifest_in_force

logger = logging.getLogger(__name__)

SWEEP_JOB = "retention.sweep"


class SweepIncomplete(RuntimeError):
    """Some organisations' sweeps failed (their runs say why); tomorrow's sweep tries again."""


@dataclass
class Swept:
    runs: list[int] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def sweep_all(sessions: sessionmaker[Session]) -> Swept:
    """Sweep every organisation whose manifest in force maps a database."""
    with sessions() as session:
        organisation_ids = list(session.scalars(select(Organisation.id).order_by(Organisation.id)))
    swept = Swept()
    for organisation_id in organisation_ids:
        with sessions() as session:
            scope(session, organisation_id)
            organisation = session.get(Organisation, organisation_id)
            if organisation is None:
                continue
            try:
                _, manifest = manifest_in_force(session, organisation)
            except RequestProblem:
                continue
            if not mapped_systems(manifest):
                continue
            try:
                run = run_retention(session, organisation, manifest, trigger="job")
            except SweepInProgress:
                continue  # a sweep started by hand is still running: it does the work
            swept.runs.append(run.id)
            if run.error:
                swept.failed.append(organisation.slug)
    return swept


@periodic(SWEEP_JOB, crontab(minute="0", hour="2"))
def sweep_retention(context: JobContext) -> None:
    """Delete or anonymise the rows past their retention period in every mapped database, and
    end jagadata's own ended sessions, expired sign-in links and stale rate-limit counters."""
    swept = sweep_all(context.sessions)
    with context.sessions() as session:
        own = sweep_own(session, datetime.now(UTC))
    logger.info(
        "retention sweep of jagadata's own data: %d sessions, %d sign-in links, %d counters",
        own.sessions,
        own.links,
        own.counters,
    )
    if swept.runs:
        logger.info("retention sweep: %d organisation(s) swept", len(swept.runs))
    if swept.failed:
        raise SweepIncomplete(
            f"the retention sweep failed for {len(swept.failed)} organisation(s); "
            "their runs in the console say why"
        )
