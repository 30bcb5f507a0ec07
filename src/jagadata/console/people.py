"""The people of an organisation and their roles: owners add a person (who gets a one-time
sign-in link), change a role, remove a membership (never the last owner's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from jagadata.accounts import service
from jagadata.accounts.deps import Member, now_of, require_role, settings_of
from jagadata.accounts.models import User
from jagadata.accounts.roles import ROLE_LABELS, Action, Role
from jagadata.audit.service import Actor
from jagadata.console import nav
from jagadata.console.render import DOMAIN, console_language, render
from jagadata.db import atomic
from jagadata.i18n import N_, gettext
from jagadata.notify.service import enqueue_email
from jagadata.web.deps import SessionDep

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Member, Depends(require_role(Action.VIEW_DASHBOARD))]
Manager = Annotated[Member, Depends(require_role(Action.MANAGE_USERS))]

BAD_INPUT: Final = N_(
    "Write the person's email address, such as name@example.co.id, and choose one of the roles."
)
ALREADY_MEMBER: Final = N_(
    "This person already belongs to the organisation, as {role}. Change their role in the list "
    "below."
)
LAST_OWNER: Final = N_(
    "An organisation always keeps at least one owner. Make another person owner first."
)
NOTICES: Final = {
    "role": N_("The role was changed."),
    "removed": N_("The person no longer belongs to this organisation."),
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, DOMAIN)


@dataclass(frozen=True)
class Invitation:
    """How a person gets their one-time link: shown here once, or sent by email."""

    email: str
    link: str | None = None
    emailed: bool = False
    withheld: bool = False
    """The person also belongs to other organisations: only they or the operator may reset
    their account, never an owner of one of those organisations."""


def _people_page(
    request: Request,
    session: Session,
    member: Member,
    *,
    invitation: Invitation | None = None,
    problem: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "console/people.html",
        signed_in=member.signed_in,
        member=member,
        section="people",
        status_code=status_code,
        context={
            "members": service.members(session=session, organisation_id=member.organisation.id),
            "may_manage": member.may(Action.MANAGE_USERS),
            "roles": list(Role),
            "invitation": invitation,
            "problem": problem,
            "notice": notice,
        },
    )


@router.get("/admin/o/{org}/people")
def people_page(
    request: Request, session: SessionDep, member: Viewer, done: str | None = None
) -> Response:
    """Who belongs to the organisation, with which role; owners manage them here."""
    lang = console_language(request)
    notice = _t(lang, NOTICES[done]) if done in NOTICES else None
    return _people_page(request, session, member, notice=notice)


@router.post("/admin/o/{org}/people")
def add_person(
    request: Request,
    session: SessionDep,
    member: Manager,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=16)] = Role.STAFF.value,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    lang = console_language(request)
    try:
        chosen = Role(role)
        with atomic(session):
            user, created = service.add_user(
                session=session,
                email=email,
                organisation=member.organisation,
                role=chosen,
                actor=Actor.user(member.user.id),
                display_name=" ".join(name.split()) or None,
                now=now_of(request),
            )
    except ValueError:
        problem = _t(lang, BAD_INPUT)
        return _people_page(request, session, member, problem=problem, status_code=422)
    except service.AlreadyMember as already:
        role_label = gettext(lang, ROLE_LABELS[Role(already.role)], "accounts")
        problem = _t(lang, ALREADY_MEMBER).format(role=role_label)
        return _people_page(request, session, member, problem=problem, status_code=409)
    invitation = None
    if created or not user.can_sign_in:
        invitation = _invite(request, member, user.id, lang)
    return _people_page(request, session, member, invitation=invitation)


@router.post("/admin/o/{org}/people/{user_id}/link")
def new_link(user_id: int, request: Request, session: SessionDep, member: Manager) -> Response:
    """A new one-time sign-in link (a lost phone or password); earlier links stop working."""
    lang = console_language(request)
    organisation_id = member.organisation.id
    if (
        service.membership(session=session, user_id=user_id, organisation_id=organisation_id)
        is None
    ):
        raise HTTPException(status_code=404)
    return _people_page(
        request, session, member, invitation=_invite(request, member, user_id, lang)
    )


def _invite(request: Request, member: Member, user_id: int, lang: str) -> Invitation:
    """Issue the link in a session of its own: the link is the person's, not the organisation's
    (its audit entry belongs to no organisation)."""
    settings = settings_of(request)
    accesses = nav.memberships(request, user_id)
    with request.app.state.sessions() as session:
        user = session.get(User, user_id)
        if user is None:
            raise HTTPException(status_code=404)
        others = [a for a in accesses if a.organisation.id != member.organisation.id]
        if others and not settings.smtp_host:
            return Invitation(user.email, withheld=True)
        with atomic(session):
            token = service.issue_sign_in_link(
                session=session, user=user, actor=Actor.user(member.user.id), now=now_of(request)
            )
            link = f"{settings.base_url.rstrip('/')}/admin/welcome/{token}"
            if settings.smtp_host:
                enqueue_email(
                    session=session,
                    organisation_id=member.organisation.id,
                    to=user.email,
                    subject=_t(lang, "Your access to {organisation} on jagadata").format(
                        organisation=member.organisation.name
                    ),
                    text=_t(
                        lang,
                        "You were given access to the privacy console of {organisation}.\n\n"
                        "Open this link within 24 hours to choose a password and set up "
                        "two-step verification (it works once):\n{link}\n\nIf you did not "
                        "expect this, ignore this message.",
                    ).format(organisation=member.organisation.name, link=link),
                    lang=lang,
                    settings=settings,
                )
                return Invitation(user.email, emailed=True)
        return Invitation(user.email, link=link)


@router.post("/admin/o/{org}/people/{user_id}/role")
def change_role(
    user_id: int,
    request: Request,
    session: SessionDep,
    member: Manager,
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    lang = console_language(request)
    try:
        chosen = Role(role)
        with atomic(session):
            service.change_role(
                session=session,
                organisation_id=member.organisation.id,
                user_id=user_id,
                role=chosen,
                actor=Actor.user(member.user.id),
                now=now_of(request),
            )
    except service.NotMember:
        raise HTTPException(status_code=404) from None
    except ValueError:
        problem = _t(lang, "Choose one of the roles.")
        return _people_page(request, session, member, problem=problem, status_code=422)
    except service.LastOwner:
        return _last_owner(request, session, member, lang)
    return _back(request, member, "role")


@router.post("/admin/o/{org}/people/{user_id}/remove")
def remove_person(user_id: int, request: Request, session: SessionDep, member: Manager) -> Response:
    lang = console_language(request)
    try:
        with atomic(session):
            service.remove_membership(
                session=session,
                organisation_id=member.organisation.id,
                user_id=user_id,
                actor=Actor.user(member.user.id),
                now=now_of(request),
            )
    except service.NotMember:
        raise HTTPException(status_code=404) from None
    except service.LastOwner:
        return _last_owner(request, session, member, lang)
    if user_id == member.user.id:
        root = request.scope.get("root_path", "")
        return RedirectResponse(f"{root}/admin/organisations", status_code=303)
    return _back(request, member, "removed")


def _last_owner(request: Request, session: Session, member: Member, lang: str) -> Response:
    problem = _t(lang, LAST_OWNER)
    return _people_page(request, session, member, problem=problem, status_code=409)


def _back(request: Request, member: Member, done: str) -> Response:
    root = request.scope.get("root_path", "")
    return RedirectResponse(
        f"{root}/admin/o/{member.organisation.slug}/people?done={done}", status_code=303
    )
