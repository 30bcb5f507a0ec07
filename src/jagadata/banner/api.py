"""The banner's addresses: the script, the GPC statement, and the public endpoint that records a
visitor's choice in the organisation's consent ledger.

The recording endpoint needs no API key (the visitor's browser calls it from the organisation's
own site, on another origin): it answers CORS preflights, accepts only the categories of the
banner in force, is rate-limited per address, and records with channel `cookie_banner`, the
language and the text shown, the anonymised IP address and the user agent (Art. 22, 24).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Coroutine
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from jagadata.accounts import ratelimit
from jagadata.accounts.deps import now_of
from jagadata.audit.service import Actor
from jagadata.banner.config import Banner, banner_of, record_url
from jagadata.banner.script import render
from jagadata.consent.models import Channel, EventKind, Status
from jagadata.consent.problems import ConsentRoute
from jagadata.consent.schemas import MAX_VERSION, EventIn, Evidence, Language
from jagadata.consent.service import (
    ConsentInvalid,
    FieldError,
    IdempotencyConflict,
    current_statuses,
    record_events,
)
from jagadata.db import atomic
from jagadata.i18n import N_, gettext, negotiate
from jagadata.orgs import service as orgs
from jagadata.orgs.models import Organisation
from jagadata.web.deps import ORG_SLUG_PATTERN, SessionDep, organisation_or_404

GPC_SINCE: Final = date(2026, 11, 23)
"""When this server began honouring Global Privacy Control (the `lastUpdate` of gpc.json)."""
SCRIPT_MAX_AGE_S: Final = 300
PER_ADDRESS: Final = ratelimit.Policy(
    120,
    timedelta(minutes=10),
    timedelta(minutes=5),
    timedelta(hours=1),
)
"""Generous: a school or an office shares one address; a person clicks a few times at most."""
PER_VISITOR: Final = ratelimit.Policy(
    20,
    timedelta(minutes=10),
    timedelta(minutes=5),
    timedelta(hours=1),
)
CORS: Final = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "POST, OPTIONS",
    "access-control-allow-headers": "Content-Type, Accept-Language",
    "access-control-max-age": "86400",
}

NOT_RECORDED: Final = N_("Nothing was recorded: the choice is not valid; see errors.")


class BannerRoute(ConsentRoute):
    """The consent API's validation problems, with the CORS headers a browser needs to read them."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            response = await handler(request)
            for name, value in CORS.items():
                response.headers.setdefault(name, value)
            return response

        return route


router = APIRouter(tags=["banner"])
api = APIRouter(prefix="/api/v1", tags=["banner"], route_class=BannerRoute)

OrgSlug = Annotated[
    str,
    Path(
        pattern=ORG_SLUG_PATTERN,
        description="The organisation's slug.",
        examples=["la-gelato-academy"],
    ),
]


class CategoryChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Literal["preference", "analytics", "marketing"] = Field(examples=["analytics"])
    allowed: bool


class ChoiceIn(BaseModel):
    """A visitor's choice on the banner: every category it asked about, allowed or not."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "consent_id": "anon_3f1c9a7e5b2d4c1e9f3a2b7d8e6f0a1c",
                    "choice_id": "9b2e4c6a8d0f1e3a5c7b9d1f3e5a7c9b",
                    "language": "id",
                    "manifest_version": 1,
                    "gpc": False,
                    "choices": [
                        {"category": "analytics", "allowed": True},
                        {"category": "marketing", "allowed": False},
                    ],
                }
            ]
        },
    )

    consent_id: str = Field(
        pattern=r"^anon_[A-Za-z0-9]{16,64}$",
        description="The anonymous consent id the banner keeps in the visitor's browser.",
    )
    choice_id: str = Field(
        pattern=r"^[A-Za-z0-9]{16,64}$",
        description="New for each choice: a retry with the same id records nothing new.",
    )
    language: Language = Field(description="The language the banner was shown in.")
    manifest_version: int = Field(ge=1, le=MAX_VERSION, description="The version shown.")
    gpc: bool = Field(default=False, description="The browser sent Global Privacy Control.")
    choices: list[CategoryChoice] = Field(min_length=1, max_length=3)


class RecordedChoice(BaseModel):
    category: str
    purpose: str
    kind: EventKind
    sequence: int
    notice_hash: str


class ChoicePublic(BaseModel):
    consent_id: str
    manifest_version: int
    replayed: bool
    events: list[RecordedChoice]


class Problem(BaseModel):
    detail: str
    errors: list[dict[str, str]] = Field(default_factory=list)


ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"model": Problem, "description": "The body is not JSON in UTF-8."},
    404: {"model": Problem, "description": "No such organisation, or it has no manifest."},
    409: {"model": Problem, "description": "The choice id was used for another choice."},
    422: {"model": Problem, "description": "Not valid: each problem with its field."},
    429: {"model": Problem, "description": "Too many choices from this address; wait."},
}


def _problem(
    request: Request,
    status: int,
    detail: str,
    errors: list[FieldError],
    headers: dict[str, str] | None = None,
    domain: str = "banner",
) -> JSONResponse:
    """A JSON problem document in the language of Accept-Language; messages of the ledger's
    checks come from the consent catalogue."""
    lang = negotiate(request.headers.get("accept-language"))
    body = {
        "detail": gettext(lang, detail, "banner"),
        "errors": [
            {"field": e.field, "message": _message(lang, e.message, e.values, domain)}
            for e in errors
        ],
    }
    return JSONResponse(body, status_code=status, headers={**CORS, **(headers or {})})


def _message(lang: str, message: str, values: Any, domain: str) -> str:
    text = gettext(lang, message, domain)
    return text.format(**values) if values else text


def client_ip(request: Request) -> str | None:
    """The caller's address if it is one (a test client or a socket may have none)."""
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None


def _organisation(session: Session, slug: str) -> Organisation | None:
    return orgs.get_organisation(session=session, slug=slug)


def _base_url(request: Request) -> str:
    return str(request.app.state.settings.base_url)


@router.get("/o/{org}/banner.js", include_in_schema=False)
def banner_script(org: str, request: Request, session: SessionDep) -> Response:
    """The organisation's banner: script, stylesheet and texts in one response."""
    organisation = organisation_or_404(session, org)
    banner = banner_of(
        session=session,
        organisation=organisation,
        base_url=_base_url(request),
        now=now_of(request),
    )
    session.commit()  # terms written on first use are kept
    if banner is None:
        return Response(status_code=404)
    gpc = request.headers.get("sec-gpc", "").strip() == "1"
    body = render(banner, api=record_url(_base_url(request), organisation.slug), gpc=gpc)
    return Response(
        body,
        media_type="text/javascript; charset=utf-8",
        headers={
            "cache-control": f"public, max-age={SCRIPT_MAX_AGE_S}",
            "vary": "Sec-GPC",
            "access-control-allow-origin": "*",
            "cross-origin-resource-policy": "cross-origin",
        },
    )


def gpc_statement(updated: date) -> dict[str, Any]:
    """The GPC support resource (`/.well-known/gpc.json`)."""
    return {"gpc": True, "lastUpdate": updated.isoformat()}


@router.get("/.well-known/gpc.json", include_in_schema=False)
def gpc_json() -> Response:
    """This server honours Global Privacy Control: every banner it serves starts denied."""
    return JSONResponse(
        gpc_statement(GPC_SINCE),
        headers={"access-control-allow-origin": "*", "cache-control": "public, max-age=86400"},
    )


@api.options("/orgs/{org}/banner/choices", include_in_schema=False)
def choices_preflight(org: OrgSlug) -> Response:
    """CORS preflight: any site may post a visitor's choice (no credentials are involved)."""
    return Response(status_code=204, headers=CORS)


@api.post(
    "/orgs/{org}/banner/choices",
    response_model=ChoicePublic,
    status_code=201,
    responses={**ERRORS, 200: {"model": ChoicePublic, "description": "A retry: nothing new."}},
)
def record_choice(org: OrgSlug, body: ChoiceIn, request: Request, session: SessionDep) -> Response:
    """Record a visitor's choice on the cookie banner in the organisation's consent ledger.

    No API key: the banner calls this from the organisation's site. Each category becomes an
    event of its purpose: `given` when allowed; when not, `withdrawn` if it was given before,
    else `refused`. Channel `cookie_banner`, the language shown and the hash of the text shown,
    the IP address cut to its network and the user agent are kept as evidence (Art. 22, 24).
    """
    organisation = _organisation(session, org)
    if organisation is None:
        return _problem(request, 404, N_("There is no organisation with this address."), [])
    now = now_of(request)
    banner = banner_of(
        session=session, organisation=organisation, base_url=_base_url(request), now=now
    )
    if banner is None:
        session.rollback()
        return _problem(request, 404, N_("This organisation has no banner yet."), [])
    errors = _check(body, banner)
    if errors:
        session.rollback()
        return _problem(request, 422, NOT_RECORDED, errors)
    ip = client_ip(request) or "unknown"
    try:
        with atomic(session):
            ratelimit.limit(
                session=session,
                scope="banner.address",
                key=f"{organisation.id}:{ip}",
                policy=PER_ADDRESS,
                now=now,
            )
            ratelimit.limit(
                session=session,
                scope="banner.visitor",
                key=body.consent_id,
                policy=PER_VISITOR,
                now=now,
            )
    except ratelimit.Limited as limited:
        return _problem(
            request,
            429,
            N_("Too many choices were sent from here; try again in a few minutes."),
            [],
            headers={"retry-after": str(limited.retry_after_seconds)},
        )
    try:
        with atomic(session):
            recorded = _record(session, organisation, banner, body, request, now)
    except ConsentInvalid as invalid:
        return _problem(
            request,
            422,
            NOT_RECORDED,
            [FieldError(_choice_field(e.field), e.message, e.values) for e in invalid.errors],
            domain="consent",
        )
    except IdempotencyConflict:
        return _problem(
            request,
            409,
            N_("This choice_id was sent with another choice; make a new one."),
            [FieldError("choice_id", N_("Already used for another choice."))],
        )
    return JSONResponse(recorded, status_code=200 if recorded["replayed"] else 201, headers=CORS)


def _check(body: ChoiceIn, banner: Banner) -> list[FieldError]:
    errors = []
    if body.manifest_version != banner.version:
        errors.append(
            FieldError(
                "manifest_version",
                N_(
                    "The banner shown is out of date: version {version} is in force; reload the "
                    "page."
                ),
                {"version": banner.version},
            )
        )
    if body.language not in banner.languages:
        errors.append(FieldError("language", N_("The banner is not published in this language.")))
    seen: set[str] = set()
    for index, choice in enumerate(body.choices):
        if banner.purpose_of(choice.category) is None:
            errors.append(
                FieldError(
                    f"choices[{index}].category",
                    N_("This banner does not ask about {category} cookies."),
                    {"category": choice.category},
                )
            )
        elif choice.category in seen:
            errors.append(
                FieldError(f"choices[{index}].category", N_("Each category may appear once."))
            )
        seen.add(choice.category)
    return errors


def _choice_field(field: str) -> str:
    """The ledger's `events[2].language` is the request's `choices[2]`, or a top-level field."""
    head, _, rest = field.partition(".")
    if head.startswith("events[") and rest in ("language", "manifest_version", "subject_ref"):
        return {"subject_ref": "consent_id"}.get(rest, rest)
    return field.replace("events[", "choices[", 1)


def _record(
    session: Session,
    organisation: Organisation,
    banner: Banner,
    body: ChoiceIn,
    request: Request,
    now: datetime,
) -> dict[str, Any]:
    purposes = [(c, banner.purpose_of(c.category) or "") for c in body.choices]
    statuses = dict(
        current_statuses(
            session=session,
            organisation_id=organisation.id,
            pairs={(body.consent_id, purpose) for _, purpose in purposes},
        )
    )
    events = []
    for choice, purpose in purposes:
        if choice.allowed:
            kind = EventKind.GIVEN
        elif statuses.get((body.consent_id, purpose)) == Status.GIVEN.value:
            kind = EventKind.WITHDRAWN
        else:
            kind = EventKind.REFUSED
        events.append(
            EventIn(
                kind=kind,
                purpose=purpose,
                subject_ref=body.consent_id,
                language=body.language,
                channel=Channel.COOKIE_BANNER,
                manifest_version=body.manifest_version,
                evidence=Evidence(
                    ip=client_ip(request),
                    user_agent=request.headers.get("user-agent"),
                    reference="gpc" if body.gpc else None,
                ),
            )
        )
    recorded = record_events(
        session=session,
        organisation_id=organisation.id,
        events=events,
        actor=Actor.system("cookie_banner"),
        batch_key=f"banner_{body.choice_id}",
        now=now,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
    return {
        "consent_id": body.consent_id,
        "manifest_version": body.manifest_version,
        "replayed": recorded.replayed,
        "events": [
            {
                "category": choice.category,
                "purpose": event.purpose,
                "kind": event.kind,
                "sequence": event.sequence,
                "notice_hash": event.notice_hash,
            }
            for (choice, _), event in zip(purposes, recorded.events, strict=True)
        ],
    }
