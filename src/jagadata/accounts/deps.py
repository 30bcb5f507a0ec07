"""What console and API routes receive: the signed-in user, their membership of the
organisation in the path (`/admin/o/{org}/...`), role checks, and the API key of a request.

    @router.get("/admin/o/{org}/requests")
    def requests_page(member: Annotated[Member, Depends(require_role(Action.HANDLE_REQUESTS))]): ...

An organisation the user does not belong to answers 404, as if it did not exist; a role that
may not take the action answers 403. Once the membership is known, the request's database
session is bound to that organisation (db.tenancy), so nothing else can leak into the page.
Opening an organisation in a session (signing in to it, or switching to it) is recorded in its
audit trail (`console.opened`): who entered, when and from where.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Final

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from jagadata.accounts import keys, service, sessions
from jagadata.accounts.models import ApiKey, Membership, User, UserSession
from jagadata.accounts.roles import Action, Role, allowed
from jagadata.audit.service import Actor, record
from jagadata.config import Settings
from jagadata.db.base import utcnow
from jagadata.db.tenancy import scope
from jagadata.i18n import N_, gettext, negotiate
from jagadata.orgs.models import Organisation
from jagadata.web.deps import SessionDep, organisation_or_404

SIGN_IN_PATH: Final = "/admin/login"


class SignInRequired(Exception):
    """No live session: the visitor is sent to the sign-in page, then back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def now_of(request: Request) -> datetime:
    """The app's clock: tests set `app.state.clock` to move time instead of waiting."""
    clock: Callable[[], datetime] | None = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else utcnow()


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@dataclass(frozen=True)
class SignedIn:
    user: User
    user_session: UserSession


def current_user(request: Request, session: SessionDep) -> SignedIn:
    settings = settings_of(request)
    token = request.cookies.get(sessions.cookie_name(settings))
    row = sessions.resolve(
        session=session,
        token=token,
        timeouts=sessions.Timeouts.of(settings),
        now=now_of(request),
    )
    if row is None:
        session.rollback()
        raise SignInRequired(request.url.path)
    session.commit()
    return SignedIn(row.user, row)


CurrentUser = Annotated[SignedIn, Depends(current_user)]


@dataclass(frozen=True)
class Member:
    """A signed-in user in one organisation of theirs."""

    signed_in: SignedIn
    organisation: Organisation
    membership: Membership

    @property
    def user(self) -> User:
        return self.signed_in.user

    @property
    def role(self) -> Role:
        return Role(self.membership.role)

    def may(self, action: Action) -> bool:
        return allowed(self.role, action)


def current_membership(
    org: str, request: Request, session: SessionDep, signed_in: CurrentUser
) -> Member:
    organisation = organisation_or_404(session, org)
    found = service.membership(
        session=session, user_id=signed_in.user.id, organisation_id=organisation.id
    )
    if found is None:
        raise HTTPException(status_code=404)
    if signed_in.user_session.organisation_id != organisation.id:
        signed_in.user_session.organisation_id = organisation.id
        record(
            session=session,
            organisation_id=organisation.id,
            actor=Actor.user(signed_in.user.id),
            action="console.opened",
            target_type="user",
            target_id=signed_in.user.id,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            details={"role": found.role},
            occurred_at=now_of(request),
        )
        session.commit()
    scope(session, organisation.id)
    return Member(signed_in, organisation, found)


CurrentMembership = Annotated[Member, Depends(current_membership)]


def require_role(action: Action) -> Callable[[Member], Member]:
    """A dependency giving the membership when its role may take `action`, else 403."""

    def dependency(member: CurrentMembership) -> Member:
        if not member.may(action):
            raise HTTPException(status_code=403)
        return member

    dependency.__name__ = f"require_{action.value}"
    return dependency


# --- API keys -------------------------------------------------------------------------------

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An organisation's API key: `Authorization: Bearer jd_<prefix>_<secret>`.",
)


def _api_error(request: Request, status: int, message: str) -> HTTPException:
    lang = negotiate(request.headers.get("accept-language"))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return HTTPException(
        status_code=status, detail=gettext(lang, message, "accounts"), headers=headers
    )


def api_key_auth(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    """The key of an `Authorization: Bearer jd_...` header; the session is bound to its
    organisation. 401 without a live key."""
    if credentials is None:
        raise _api_error(request, 401, N_("An API key is needed: Authorization: Bearer jd_…"))
    key = keys.authenticate(session=session, token=credentials.credentials, now=now_of(request))
    if key is None:
        session.rollback()
        raise _api_error(request, 401, N_("This API key is unknown or was revoked."))
    session.commit()
    scope(session, key.organisation_id)
    return key


ApiKeyAuth = Annotated[ApiKey, Depends(api_key_auth)]


def verified_api_key(
    org: str,
    request: Request,
    session: Session,
    credentials: HTTPAuthorizationCredentials | None,
    *required: keys.Scope,
) -> keys.VerifiedKey:
    """`api_key_for`'s answers (401, 404 for another organisation, 403 without a scope) for a
    hot path: the key comes from `keys.verified`'s short-lived cache, the organisation from
    the key, so a repeated caller costs no query; the session is bound to the organisation."""
    if credentials is None:
        raise _api_error(request, 401, N_("An API key is needed: Authorization: Bearer jd_…"))
    key = keys.verified(session=session, token=credentials.credentials, now=now_of(request))
    if key is None:
        session.rollback()
        raise _api_error(request, 401, N_("This API key is unknown or was revoked."))
    if session.in_transaction():  # the key was looked up (and its last use maybe written)
        session.commit()
    if key.organisation_slug != org:
        raise HTTPException(status_code=404)
    if any(s.value not in key.scopes for s in required):
        raise _api_error(request, 403, N_("This API key does not have the scope needed."))
    scope(session, key.organisation_id)
    return key


@dataclass(frozen=True)
class ApiCaller:
    key: ApiKey
    organisation: Organisation


def api_key_for(*required: keys.Scope) -> Callable[..., ApiCaller]:
    """A dependency for /api/v1/orgs/{org}/...: the key must belong to `org` (else 404, as if
    the organisation did not exist) and hold every required scope (else 403)."""

    def dependency(org: str, request: Request, session: SessionDep, key: ApiKeyAuth) -> ApiCaller:
        organisation = organisation_or_404(session, org)
        if organisation.id != key.organisation_id:
            raise HTTPException(status_code=404)
        missing = [s.value for s in required if s.value not in key.scopes]
        if missing:
            raise _api_error(request, 403, N_("This API key does not have the scope needed."))
        return ApiCaller(key, organisation)

    return dependency
