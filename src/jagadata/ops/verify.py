"""After a restore: every hash chain jagadata keeps, walked again from its first link.

The audit trail (one chain per organisation and one for system events), each organisation's
consent ledger and each request's timeline prove nothing was changed, removed or added; a
restored copy must prove the same, or it is not the database that was backed up.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, select

from jagadata.audit.service import BrokenLink, verify_chain
from jagadata.consent.ledger import verify_ledger
from jagadata.db import session_factory
from jagadata.db.tenancy import cross_organisation_session
from jagadata.orgs.service import list_organisations
from jagadata.rights.models import RightsRequest
from jagadata.rights.service import verify_timeline


class ChainKind(StrEnum):
    AUDIT = "audit"
    CONSENT = "consent"
    TIMELINE = "timeline"


@dataclass(frozen=True)
class ChainCheck:
    """One chain walked: what it is, whose, how many links, and the first broken one."""

    kind: ChainKind
    owner: str
    checked: int
    broken_at: int | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


@dataclass(frozen=True)
class Verification:
    checks: list[ChainCheck]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def broken(self) -> list[ChainCheck]:
        return [check for check in self.checks if not check.ok]

    def count(self, kind: ChainKind) -> int:
        return sum(1 for check in self.checks if check.kind is kind)


SYSTEM_OWNER = "system"


def verify_chains(engine: Engine) -> Verification:
    """Walk every audit chain, consent ledger and request timeline in the database."""
    checks: list[ChainCheck] = []
    with cross_organisation_session(session_factory(engine)) as session:
        organisations = [(o.slug, o.id) for o in list_organisations(session=session)]
        for slug, organisation_id in [*organisations, (SYSTEM_OWNER, None)]:
            audit = verify_chain(session=session, organisation_id=organisation_id)
            checks.append(ChainCheck(ChainKind.AUDIT, slug, audit.checked, _at(audit.broken)))
        for slug, organisation_id in organisations:
            ledger = verify_ledger(session=session, organisation_id=organisation_id)
            checks.append(ChainCheck(ChainKind.CONSENT, slug, ledger.checked, _at(ledger.broken)))
        requests = session.scalars(select(RightsRequest).order_by(RightsRequest.id))
        for request in requests:
            broken_at = verify_timeline(session, request)
            checks.append(
                ChainCheck(ChainKind.TIMELINE, request.reference, request.last_sequence, broken_at)
            )
    return Verification(checks)


def _at(link: BrokenLink | None) -> int | None:
    return None if link is None else link.sequence
