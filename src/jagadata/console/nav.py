"""Where a person can go in the console: the sections of an organisation (each behind an action
of the role table), the organisations they belong to, and the one they used last.

A later feature (consent, requests, retention, breach) adds its page by appending a `Section`
here and including its router in `console.views`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from jagadata.accounts import service
from jagadata.accounts.deps import Member
from jagadata.accounts.models import UserSession
from jagadata.accounts.roles import Action, allowed
from jagadata.accounts.service import OrganisationAccess
from jagadata.i18n import N_
from jagadata.rights.models import RightsRequest
from jagadata.rights.states import RequestStatus
from jagadata.rights.workflow import is_open

SEARCH_FROM: Final = 9
"""From this many organisations on, the switcher offers a search box (Rina has twenty)."""


@dataclass(frozen=True)
class Section:
    """One page of an organisation in the navigation, shown to roles that may take `action`."""

    key: str
    path: str
    label: str
    action: Action
    badge: int = 0
    """A number that needs attention (overdue requests), shown beside the label."""

    def href(self, root: str, slug: str) -> str:
        return f"{root}/admin/o/{slug}/{self.path}"


SECTIONS: Final = (
    Section("home", "", N_("Home"), Action.VIEW_DASHBOARD),
    Section("manifest", "manifest", N_("Manifest"), Action.VIEW_DASHBOARD),
    Section("policies", "policies", N_("Policies"), Action.VIEW_DASHBOARD),
    Section("people", "people", N_("People"), Action.VIEW_DASHBOARD),
    Section("keys", "keys", N_("API keys"), Action.MANAGE_API_KEYS),
    Section("audit", "audit", N_("Audit log"), Action.VIEW_AUDIT_LOG),
    Section("outbox", "outbox", N_("Outbox"), Action.VIEW_DASHBOARD),
    Section("consent", "consent", N_("Consent"), Action.VIEW_DASHBOARD),
    Section("consent_history", "consent/history", N_("Consent history"), Action.VIEW_PERSONAL_DATA),
    Section("requests", "requests", N_("Requests"), Action.HANDLE_REQUESTS),
    Section("breaches", "breaches", N_("Breaches"), Action.MANAGE_BREACHES),
    Section("retention", "retention", N_("Retention"), Action.VIEW_DASHBOARD),
    Section("dpia", "dpia", N_("DPIA"), Action.VIEW_DASHBOARD),
)


def sections_for(member: Member) -> list[Section]:
    shown = [section for section in SECTIONS if allowed(member.role, section.action)]
    return [
        replace(section, badge=overdue_requests(member)) if section.key == "requests" else section
        for section in shown
    ]


def overdue_requests(member: Member) -> int:
    """Open requests of the organisation past their deadline (a paused clock is never
    overdue), as of the person's last activity: the badge of *Requests*."""
    session = object_session(member.membership)
    if session is None:
        return 0
    now = member.signed_in.user_session.last_seen_at
    return (
        session.scalar(
            select(func.count())
            .select_from(RightsRequest)
            .where(
                RightsRequest.organisation_id == member.organisation.id,
                RightsRequest.status.in_([s.value for s in RequestStatus if is_open(s)]),
                RightsRequest.due_at.is_not(None),
                RightsRequest.due_at < now,
            )
        )
        or 0
    )


def memberships(request: Request, user_id: int) -> list[OrganisationAccess]:
    """Every organisation of the user, by name. Read in a session of its own: the request's
    session is bound to the organisation of the page and sees no other."""
    with request.app.state.sessions() as session:
        return service.organisations_of(session=session, user_id=user_id)


def matching(accesses: list[OrganisationAccess], query: str | None) -> list[OrganisationAccess]:
    """The organisations whose name or slug contains every word of `query` (any case)."""
    words = (query or "").casefold().split()
    if not words:
        return accesses
    return [
        access
        for access in accesses
        if all(
            word in f"{access.organisation.name} {access.organisation.slug}".casefold()
            for word in words
        )
    ]


def last_organisation(
    *, session: Session, user_id: int, accesses: list[OrganisationAccess]
) -> OrganisationAccess | None:
    """The organisation the person worked in most recently (this session's first), if they
    still belong to it; the only one when they belong to one."""
    if len(accesses) == 1:
        return accesses[0]
    by_id = {access.organisation.id: access for access in accesses}
    recent = session.scalars(
        select(UserSession.organisation_id)
        .where(UserSession.user_id == user_id, UserSession.organisation_id.is_not(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        .limit(20)
    )
    for organisation_id in recent:
        if organisation_id in by_id:
            return by_id[organisation_id]
    return None
