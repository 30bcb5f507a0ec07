"""The opt-in API, for organisations' own sites and messages (API key `consent:write`):

POST /api/v1/orgs/{org}/consent/opt-ins            ask for consent by email or WhatsApp;
                                                   nothing is recorded until confirmed
POST /api/v1/orgs/{org}/consent/withdrawal-links   the signed withdrawal link (and headers,
                                                   WhatsApp text) for the org's own messages
POST /api/v1/orgs/{org}/consent/unsubscribe/{token}  the one-click target (RFC 8058), no key:
                                                   the signed token is the authentication
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import Field

from jagadata.accounts import ratelimit
from jagadata.accounts.deps import ApiCaller, api_key_for, now_of
from jagadata.accounts.keys import Scope
from jagadata.consent.links import TOKEN_PATTERN
from jagadata.consent.optin import OptInRefused, request_optin
from jagadata.consent.optin_models import OptInChannel
from jagadata.consent.problems import INVALID, NOT_RECORDED, ConsentRoute, problem
from jagadata.consent.schemas import (
    Evidence,
    Identity,
    Language,
    ProblemPublic,
    PurposeId,
    Strict,
    SubjectRef,
)
from jagadata.consent.service import ConsentInvalid, FieldError
from jagadata.consent.unsubscribe import ONE_CLICK_BODY, withdraw_by_link, withdrawal_link
from jagadata.consent.validation import resolve_subject
from jagadata.db import atomic
from jagadata.i18n import N_
from jagadata.web.deps import ORG_SLUG_PATTERN, SessionDep, organisation_or_404

router = APIRouter(prefix="/api/v1", tags=["consent"], route_class=ConsentRoute)

OrgSlug = Annotated[str, Path(pattern=ORG_SLUG_PATTERN, examples=["la-gelato-academy"])]
Token = Annotated[str, Path(pattern=TOKEN_PATTERN)]
Writer = Annotated[ApiCaller, Depends(api_key_for(Scope.CONSENT_WRITE))]
ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"model": ProblemPublic, "description": "The body is not JSON in UTF-8."},
    401: {"model": ProblemPublic, "description": "No API key, or an unknown or revoked one."},
    403: {"model": ProblemPublic, "description": "The key lacks the scope needed."},
    404: {"model": ProblemPublic, "description": "No such organisation (for this key)."},
    422: {"model": ProblemPublic, "description": "Not valid: each problem with its field."},
}
TOO_MANY: Final = N_(
    "Three requests were sent to this contact in the last quarter of an hour; nothing was "
    "sent. Try again later (see Retry-After)."
)
LIMITED: Final[dict[int | str, dict[str, Any]]] = {
    429: {"model": ProblemPublic, "description": "Too many requests to this contact lately."},
}
ONE_CLICK: Final[dict[int | str, dict[str, Any]]] = {
    303: {"description": "From the withdrawal page's button: back to the page."},
    404: {"model": ProblemPublic, "description": "Not a withdrawal link of this organisation."},
    422: {"model": ProblemPublic, "description": "The token is malformed."},
}
UNKNOWN_LINK: Final = N_("This withdrawal link is not valid: use the link of the latest message.")


class OptInIn(Strict):
    """Ask a person for consent by a message they must answer (Art. 20(2)(a), 22)."""

    channel: Literal["email", "whatsapp"] = Field(examples=["email"])
    contact: str = Field(
        min_length=3, max_length=320, description="The email address or phone number."
    )
    purposes: list[PurposeId] = Field(min_length=1, max_length=50)
    language: Language = "id"
    evidence: Evidence = Field(
        default_factory=Evidence, description="The visitor's IP and user agent on your site."
    )


class OptInPublic(Strict):
    id: int
    status: Literal["pending"]
    channel: str
    purposes: list[str]
    language: str
    expires_at: str


class WithdrawalLinkIn(Strict):
    subject: Identity | None = None
    subject_ref: SubjectRef | None = None
    purposes: list[PurposeId] = Field(
        default_factory=list, max_length=50, description="Default: every purpose."
    )
    language: Language = "id"


class WithdrawnPublic(Strict):
    withdrawn: list[str] = Field(description="Purposes withdrawn now (empty: none in effect).")
    processing_stops_by: str = Field(description="Within 3 x 24 hours (Art. 40).")


class WithdrawalLinkPublic(Strict):
    url: str
    one_click_url: str
    headers: dict[str, str]
    whatsapp_text: str


@router.post(
    "/orgs/{org}/consent/opt-ins",
    status_code=202,
    response_model=OptInPublic,
    responses={**ERRORS, **LIMITED},
)
def create_optin(
    org: OrgSlug, body: OptInIn, request: Request, session: SessionDep, caller: Writer
) -> Response:
    """Send a confirmation (email with a link, or a WhatsApp message to answer YA); the consent
    is recorded only when the person confirms."""
    try:
        with atomic(session):
            requested = request_optin(
                session=session,
                organisation=caller.organisation,
                channel=OptInChannel(body.channel),
                contact=body.contact,
                purposes=body.purposes,
                language=body.language,
                source=f"API key {caller.key.name}",
                ip=body.evidence.ip,
                user_agent=body.evidence.user_agent,
                now=now_of(request),
                settings=request.app.state.settings,
            )
    except OptInRefused as refused:
        return problem(request, 422, NOT_RECORDED, refused.errors)
    except ratelimit.Limited as limited:
        answer = problem(request, 429, TOO_MANY, [FieldError("contact", TOO_MANY)])
        answer.headers["retry-after"] = str(limited.retry_after_seconds)
        return answer
    optin = requested.optin
    return JSONResponse(
        {
            "id": optin.id,
            "status": "pending",
            "channel": optin.channel,
            "purposes": list(optin.purposes),
            "language": optin.language,
            "expires_at": requested.expires_at.isoformat(),
        },
        status_code=202,
    )


@router.post(
    "/orgs/{org}/consent/withdrawal-links",
    status_code=201,
    response_model=WithdrawalLinkPublic,
    responses=ERRORS,
)
def create_withdrawal_link(
    org: OrgSlug, body: WithdrawalLinkIn, request: Request, session: SessionDep, caller: Writer
) -> Response:
    """A signed link that withdraws with one click, for the organisation's own messages: put
    `url` in the text, `headers` in the email, `whatsapp_text` in a WhatsApp message."""
    try:
        subject_ref = resolve_subject(body.subject, body.subject_ref, "subject")
    except ConsentInvalid as invalid:
        return problem(request, 422, INVALID, invalid.errors)
    with atomic(session):
        link = withdrawal_link(
            session=session,
            organisation=caller.organisation,
            subject_ref=subject_ref,
            purposes=list(dict.fromkeys(body.purposes)),
            language=body.language,
            now=now_of(request),
            settings=request.app.state.settings,
        )
    return JSONResponse(
        {
            "url": link.url,
            "one_click_url": link.one_click_url,
            "headers": link.headers,
            "whatsapp_text": link.whatsapp_text(body.language),
        },
        status_code=201,
    )


@router.get("/orgs/{org}/consent/unsubscribe/{token}", include_in_schema=False)
def one_click_opened(org: OrgSlug, token: Token) -> Response:
    """A person who opens the List-Unsubscribe address in a browser gets the page."""
    return RedirectResponse(f"/o/{org}/unsubscribe/{token}", status_code=303)


@router.post(
    "/orgs/{org}/consent/unsubscribe/{token}", response_model=WithdrawnPublic, responses=ONE_CLICK
)
async def one_click(org: OrgSlug, token: Token, request: Request, session: SessionDep) -> Response:
    """RFC 8058 one-click withdrawal (body `List-Unsubscribe=One-Click`), or the withdrawal
    page's button (then back to the page, which says when processing stops)."""
    organisation = organisation_or_404(session, org)
    form = await request.form()
    one_click = form.get("List-Unsubscribe") == ONE_CLICK_BODY.split("=", 1)[1]
    with atomic(session):
        withdrawn = withdraw_by_link(
            session=session,
            organisation=organisation,
            token=token,
            one_click=one_click,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            now=now_of(request),
        )
    if withdrawn is None:
        return problem(request, 404, UNKNOWN_LINK, [FieldError("token", UNKNOWN_LINK)])
    if not one_click:
        return RedirectResponse(f"/o/{org}/unsubscribe/{token}?done=1", status_code=303)
    return JSONResponse(
        {"withdrawn": withdrawn.purposes, "processing_stops_by": withdrawn.stops_by.isoformat()}
    )
