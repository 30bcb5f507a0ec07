"""Recording a breach of MilleaLab's platform database the way a DPO would, at fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from notify_servers import ReceivedEmail
from sqlalchemy.orm import Session

from jagadata.audit.service import Actor
from jagadata.breach import service
from jagadata.breach.models import BreachIncident
from jagadata.db.tenancy import scope
from jagadata.manifest.schema import Manifest
from jagadata.orgs.models import Organisation
from jagadata.rights.service import manifest_in_force

DISCOVERED = datetime(2026, 11, 23, 3, 15, tzinfo=UTC)  # Monday 10:15 WIB
OCCURRED = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
NOW = DISCOVERED + timedelta(hours=2)
HOUR = timedelta(hours=1)
DPO = Actor.user(1, "dpo")
WHAT = "Cadangan basis data platform terbuka tanpa kata sandi di penyimpanan awan selama dua hari."
MEASURES = "Akses ke cadangan ditutup, kata sandi basis data diganti, dan log akses diperiksa."


def manifest_of(session: Session, organisation_id: int) -> tuple[Organisation, Manifest]:
    scope(session, organisation_id)
    organisation = session.get(Organisation, organisation_id)
    assert organisation is not None
    _number, manifest = manifest_in_force(session, organisation)
    return organisation, manifest


def record(
    session: Session,
    organisation_id: int,
    categories: list[str],
    *,
    occurred: datetime | None = OCCURRED,
    public_interest: str | None = None,
) -> BreachIncident:
    """Record and assess a breach of `categories` in the platform database."""
    organisation, manifest = manifest_of(session, organisation_id)
    facts = service.Facts(
        title="Cadangan basis data terbuka",
        what_happened=WHAT,
        measures=MEASURES,
        discovered_at=DISCOVERED,
        occurred_at=occurred,
        systems=["platform_db"],
        categories=categories,
        public_interest=public_interest,
    )
    incident = service.record_incident(session, organisation, manifest, facts, actor=DPO, now=NOW)
    service.assess_incident(session, incident, manifest, actor=DPO, now=NOW)
    return incident


def text_of(email: ReceivedEmail) -> str:
    message: EmailMessage = email.message
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())
