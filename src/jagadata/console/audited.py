"""Seeing a person's data is itself evidence (UU PDP Art. 47): a console route that shows it
first records who looked, at what and from where, and commits that entry before the data
leaves the server. No entry, no data.

    audited_view(request, session, member, action="outbox.recipient_viewed",
                 target_type="outbox_message", target_id=message.id,
                 subject_ref=identity_hash("email", message.recipient))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session

from jagadata.accounts.deps import Member, now_of
from jagadata.accounts.roles import Action
from jagadata.audit.models import AuditEntry
from jagadata.audit.service import Actor, record
from jagadata.db import atomic
from jagadata.identities import IdentityKind, InvalidIdentity, identity_hash


def audited_view(
    request: Request,
    session: Session,
    member: Member,
    *,
    action: str = "person.viewed",
    target_type: str,
    target_id: str | int | None,
    subject_ref: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Record and commit that `member` is shown a person's data; 403 for a role that may not
    see personal data (the role table's `view_personal_data`)."""
    if not member.may(Action.VIEW_PERSONAL_DATA):
        raise HTTPException(status_code=403)
    with atomic(session):
        return record(
            session=session,
            organisation_id=member.organisation.id,
            actor=Actor.user(member.user.id),
            action=action,
            target_type=target_type,
            target_id=target_id,
            subject_ref=subject_ref,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            details=details,
            occurred_at=now_of(request),
        )


def subject_ref_of(kind: IdentityKind | str, value: str) -> str | None:
    """The keyed hash the audit trail names a person by; None when `value` is not an identity
    of that kind (a webhook address, say)."""
    try:
        return identity_hash(kind, value)
    except InvalidIdentity:
        return None
