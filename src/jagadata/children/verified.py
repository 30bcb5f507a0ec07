"""Whether a guardian reference was verified for a child: for the ledger or any other caller to
refuse a child's consent that names a guardian nobody verified (Art. 25 UU PDP).

It imports only this package's table, so `jagadata.consent` can call it without a cycle.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.children.models import GuardianVerification
from jagadata.db.tenancy import acting_for


def guardian_verified(
    *, session: Session, organisation_id: int, child_ref: str, guardian_ref: str
) -> bool:
    """True when this guardian's code was verified for this child in this organisation."""
    with acting_for(session, organisation_id):
        found = session.scalar(
            select(GuardianVerification.id)
            .where(
                GuardianVerification.organisation_id == organisation_id,
                GuardianVerification.child_ref == child_ref,
                GuardianVerification.guardian_ref == guardian_ref,
                GuardianVerification.verified_at.is_not(None),
            )
            .limit(1)
        )
    return found is not None
