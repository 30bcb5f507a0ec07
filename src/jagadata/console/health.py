"""How an organisation's machinery is doing: its audit chain (verified, or broken at entry N)
and its outbox (messages by status)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jagadata.accounts.deps import now_of
from jagadata.audit.service import VerifyResult, verify_chain
from jagadata.notify.models import OutboxMessage, OutboxStatus

CHAIN_CHECK_TTL: Final = timedelta(seconds=60)
"""The dashboard reuses a verification this recent; the audit page can verify on demand."""


@dataclass(frozen=True)
class ChainStatus:
    result: VerifyResult
    checked_at: datetime


_lock = threading.Lock()


def chain_status(
    request: Request, session: Session, organisation_id: int, *, fresh: bool = False
) -> ChainStatus:
    """The chain verified from its first entry (cached on the app for CHAIN_CHECK_TTL)."""
    now = now_of(request)
    state = request.app.state
    with _lock:
        cache: dict[int, ChainStatus] | None = getattr(state, "console_chain_status", None)
        if cache is None:
            cache = {}
            state.console_chain_status = cache
        known = cache.get(organisation_id)
    if known is not None and not fresh and timedelta(0) <= now - known.checked_at < CHAIN_CHECK_TTL:
        return known
    status = ChainStatus(verify_chain(session=session, organisation_id=organisation_id), now)
    with _lock:
        cache[organisation_id] = status
    return status


def outbox_counts(*, session: Session, organisation_id: int) -> dict[OutboxStatus, int]:
    """How many of the organisation's messages are in each state."""
    counts = dict.fromkeys(OutboxStatus, 0)
    rows = session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.organisation_id == organisation_id)
        .group_by(OutboxMessage.status)
    )
    for status, count in rows:
        counts[OutboxStatus(status)] = int(count)
    return counts
