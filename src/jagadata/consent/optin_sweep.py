"""Opt-in requests are deleted 30 days after they lapse (run it daily: see docs/consent.md).

A request's contact is personal data kept only to send the confirmation; once it has lapsed or
been answered, the ledger holds what proves the consent (Art. 24), and the request itself goes
(UU PDP Art. 16(2)(g): data is deleted when its time is over)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from jagadata.consent.optin_models import ConsentLink, ConsentOptIn, WhatsAppInbound
from jagadata.db import atomic
from jagadata.db.base import utcnow
from jagadata.db.tenancy import across_organisations

OPTIN_KEPT_AFTER_EXPIRY: Final = timedelta(days=30)
SWEEP_BATCH: Final = 1000


def sweep_optins(*, session: Session, now: datetime | None = None) -> int:
    """Delete opt-in requests (and their confirmation links) that lapsed more than 30 days
    ago, whatever their outcome; count them. Withdrawal links stay: they hold no contact.
    WhatsApp message ids older than 30 days go too (WhatsApp stops retrying after 7 days)."""
    cutoff = (now or utcnow()) - OPTIN_KEPT_AFTER_EXPIRY
    with atomic(session):
        session.execute(delete(WhatsAppInbound).where(WhatsAppInbound.received_at < cutoff))
    total = 0
    while True:
        with atomic(session), across_organisations(session):
            ids = list(
                session.scalars(
                    select(ConsentOptIn.id)
                    .where(ConsentOptIn.expires_at < cutoff)
                    .order_by(ConsentOptIn.id)
                    .limit(SWEEP_BATCH)
                )
            )
            if not ids:
                return total
            session.execute(delete(ConsentLink).where(ConsentLink.optin_id.in_(ids)))
            session.execute(delete(ConsentOptIn).where(ConsentOptIn.id.in_(ids)))
        total += len(ids)
