"""The guardian API for organisations' own apps (`consent:write` key), Art. 25 UU PDP:

    POST /api/v1/orgs/{org}/guardians/verifications               start: the code goes out
    GET  /api/v1/orgs/{org}/guardians/verifications/{id}          where it stands
    POST /api/v1/orgs/{org}/guardians/verifications/{id}/confirm  the code and the decisions

Errors are JSON problem documents: `{"detail": ..., "errors": [{"field", "message"}]}`, in the
language of Accept-Language; a key of another organisation gets 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from jagadata.accounts.deps import ApiCaller, api_key_for, now_of
from jagadata.accounts.keys import Scope
from jagadata.audit.service import Actor
from jagadata.children import service
from jagadata.children.models import MAX_ATTEMPTS, GuardianVerification, Origin
from jagadata.children.service import GuardianProblem, Outcome, TooManyCodes
from jagadata.consent.models import Channel
from jagadata.consent.problems import NOT_RECORDED as CONSENT_NOT_RECORDED
from jagadata.consent.problems import ConsentRoute
from jagadata.consent.problems import problem as consent_problem
from jagadata.consent.schemas import (
    Identity as IdentityIn,
)
from jagadata.consent.schemas import (
    PurposeId,
    Strict,
    SubjectRef,
)
from jagadata.consent.service import ConsentInvalid, LedgerEvent
from jagadata.consent.validation import resolve_subject
from jagadata.db import atomic
from jagadata.i18n import N_, gettext, negotiate
from jagadata.web.deps import ORG_SLUG_PATTERN, SessionDep

router = APIRouter(prefix="/api/v1", tags=["children"], route_class=ConsentRoute)

OrgSlug = Annotated[str, Path(pattern=ORG_SLUG_PATTERN, examples=["millealab"])]
VerificationId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{32}$", description="The verification's id.")
]
Writer = Annotated[ApiCaller, Depends(api_key_for(Scope.CONSENT_WRITE))]
NOT_STARTED: Final = N_("Nothing was sent: the request is not valid; see errors.")
NOT_RECORDED: Final = N_("Nothing was recorded; see errors.")


class GuardianContact(Strict):
    kind: str = Field(pattern=r"^(email|phone)$", examples=["email"])
    value: str = Field(min_length=3, max_length=320, examples=["wali@contoh.example"])


class VerificationIn(Strict):
    """Ask a parent or guardian to decide for a child: the code goes to `guardian`."""

    child: IdentityIn | None = Field(default=None, description="The child, by identity ...")
    child_ref: SubjectRef | None = Field(default=None, description="... or by reference.")
    guardian: GuardianContact
    purposes: list[PurposeId] | None = Field(
        default=None, max_length=50, description="Default: every consent-based purpose."
    )
    language: str = Field(default="id", pattern=r"^(id|en|fr)$")
    channel: Channel | None = Field(
        default=None,
        description="Where the guardian reads the consent texts (the ledger's channel); default: "
        "web_form, else the message the code travels by, whichever the purposes collect by.",
    )


class Decision(Strict):
    purpose: PurposeId
    consent: bool


class ConfirmIn(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^\s*\d{6}\s*$")]
    decisions: list[Decision] = Field(min_length=1, max_length=50)


class ProblemOut(BaseModel):
    detail: str
    errors: list[dict[str, str]] = Field(default_factory=list)


ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"description": "The body is not JSON in UTF-8."},
    401: {"model": ProblemOut, "description": "No API key, or an unknown or revoked one."},
    403: {"model": ProblemOut, "description": "The key lacks consent:write; or Art. 25."},
    404: {"model": ProblemOut, "description": "No such organisation or verification."},
    409: {"model": ProblemOut, "description": "The code was used, expired or locked."},
    429: {"model": ProblemOut, "description": "Too many codes sent to this contact lately."},
    422: {"model": ProblemOut, "description": "Not valid, or a wrong code: see errors."},
}


def problem(
    request: Request, status: int, detail: str, errors: list[tuple[str, str, dict[str, Any]]]
) -> JSONResponse:
    lang = negotiate(request.headers.get("accept-language"))

    def text(message: str, values: dict[str, Any]) -> str:
        translated = gettext(lang, message, "children")
        return translated.format(**values) if values else translated

    body = {
        "detail": gettext(lang, detail, "children"),
        "errors": [{"field": f, "message": text(m, v)} for f, m, v in errors],
    }
    return JSONResponse(body, status_code=status)


def _client(request: Request) -> tuple[str | None, str | None]:
    return (request.client.host if request.client else None, request.headers.get("user-agent"))


def _status(verification: GuardianVerification, now: datetime) -> dict[str, Any]:
    if verification.decided_at is not None:
        state = "decided"
    elif verification.locked_at is not None:
        state = "locked"
    elif verification.verified_at is not None:
        state = "verified"
    elif now >= verification.expires_at:
        state = "expired"
    else:
        state = "pending"
    return {
        "id": verification.public_id,
        "status": state,
        "child_ref": verification.child_ref,
        "guardian_ref": verification.guardian_ref,
        "channel": verification.contact_kind,
        "purposes": list(verification.purposes),
        "manifest_version": verification.manifest_version,
        "expires_at": verification.expires_at.isoformat(),
        "attempts_left": max(0, MAX_ATTEMPTS - verification.attempts),
        "decisions": verification.decisions,
        "event_sequences": verification.event_sequences,
    }


@router.post("/orgs/{org}/guardians/verifications", status_code=201, responses=ERRORS)
def start(
    org: OrgSlug, body: VerificationIn, request: Request, session: SessionDep, caller: Writer
) -> Response:
    """Start a guardian's verification: a 6-digit code (and a link) goes to their email or
    WhatsApp through the outbox, valid 30 minutes, 5 attempts, once (Art. 25 UU PDP)."""
    ip, user_agent = _client(request)
    try:
        child = (
            resolve_subject(body.child, body.child_ref, "child")
            if body.child or body.child_ref
            else service.new_child_ref()
        )
    except ConsentInvalid:
        return problem(
            request,
            422,
            NOT_STARTED,
            [("child", N_("Name the child once: child (an identity) or child_ref."), {})],
        )
    now = now_of(request)
    try:
        with atomic(session):
            started = service.start_verification(
                session=session,
                organisation=caller.organisation,
                child_ref=child,
                purposes=body.purposes,
                contact_kind=body.guardian.kind,
                contact=body.guardian.value,
                lang=body.language,
                base_url=str(request.app.state.settings.base_url),
                origin=Origin.API,
                actor=Actor.api_key(caller.key.id, caller.key.name),
                now=now,
                channel=body.channel,
                ip=ip,
                user_agent=user_agent,
            )
    except GuardianProblem as wrong:
        return problem(
            request,
            429 if isinstance(wrong, TooManyCodes) else 422,
            NOT_STARTED,
            [(wrong.field, wrong.message, dict(wrong.values))],
        )
    return JSONResponse(_status(started.verification, now), status_code=201)


def _found(
    request: Request, session: SessionDep, caller: ApiCaller, public_id: str
) -> GuardianVerification | JSONResponse:
    found = service.find_verification(
        session=session, organisation_id=caller.organisation.id, public_id=public_id
    )
    if found is None:
        return problem(request, 404, N_("There is no verification with this id."), [])
    return found


@router.get("/orgs/{org}/guardians/verifications/{public_id}", responses=ERRORS)
def status(
    org: OrgSlug, public_id: VerificationId, request: Request, session: SessionDep, caller: Writer
) -> Response:
    """Where a verification stands: pending, verified, decided, expired or locked."""
    found = _found(request, session, caller, public_id)
    if isinstance(found, JSONResponse):
        return found
    return JSONResponse(_status(found, now_of(request)))


CLOSED: Final = {
    Outcome.LOCKED: N_("Too many wrong codes: this verification is locked. Start a new one."),
    Outcome.EXPIRED: N_("This code has expired. Start a new verification."),
    Outcome.USED: N_("This code was already used. Start a new verification if needed."),
}


@router.post(
    "/orgs/{org}/guardians/verifications/{public_id}/confirm", status_code=201, responses=ERRORS
)
def confirm(
    org: OrgSlug,
    public_id: VerificationId,
    body: ConfirmIn,
    request: Request,
    session: SessionDep,
    caller: Writer,
) -> Response:
    """The guardian's code and decisions: the guardian's own event and the child's (with
    guardian_ref) are recorded for each purpose, in one transaction. Without the right code
    nothing is recorded: a child cannot consent alone (Art. 25 UU PDP)."""
    found = _found(request, session, caller, public_id)
    if isinstance(found, JSONResponse):
        return found
    decisions = {d.purpose: d.consent for d in body.decisions}
    asked = set(found.purposes)
    wrong = [
        (
            f"decisions[{i}].purpose",
            N_("{purpose} was not among the purposes the guardian was asked about."),
            {"purpose": d.purpose},
        )
        for i, d in enumerate(body.decisions)
        if d.purpose not in asked
    ]
    missing = sorted(asked - set(decisions))
    if missing:
        wrong.append(
            (
                "decisions",
                N_("Say yes or no for every purpose: {purpose} has no answer."),
                {"purpose": missing[0]},
            )
        )
    if wrong:
        return problem(request, 422, NOT_RECORDED, wrong)
    ip, user_agent = _client(request)
    now = now_of(request)
    with atomic(session):
        checked = service.check_code(
            session=session,
            verification=found,
            code=body.code,
            now=now,
            ip=ip,
            user_agent=user_agent,
        )
    if checked.outcome in CLOSED:
        return problem(request, 409, NOT_RECORDED, [("code", CLOSED[checked.outcome], {})])
    if checked.outcome is Outcome.WRONG:
        return problem(
            request,
            422,
            NOT_RECORDED,
            [
                (
                    "code",
                    N_("This code is not right. Attempts left: {left}."),
                    {"left": checked.attempts_left},
                )
            ],
        )
    try:
        with atomic(session):
            recorded = service.record_decisions(
                session=session,
                organisation=caller.organisation,
                verification=found,
                decisions=decisions,
                lang=found.language,
                base_url=str(request.app.state.settings.base_url),
                now=now,
                actor=Actor.api_key(caller.key.id, caller.key.name),
                ip=ip,
                user_agent=user_agent,
            )
    except GuardianProblem as problem_:
        return problem(
            request, 403, NOT_RECORDED, [(problem_.field, problem_.message, dict(problem_.values))]
        )
    except ConsentInvalid as invalid:
        return consent_problem(request, 422, CONSENT_NOT_RECORDED, invalid.errors)
    return JSONResponse(
        {**_status(found, now), "events": [_event(e) for e in recorded.events]}, status_code=201
    )


def _event(event: LedgerEvent) -> dict[str, Any]:
    return {
        "sequence": event.sequence,
        "kind": event.kind,
        "subject_ref": event.subject_ref,
        "purpose": event.purpose,
        "child": event.child,
        "guardian_ref": event.guardian_ref,
        "manifest_version": event.manifest_version,
        "notice_hash": event.notice_hash,
        "language": event.language,
        "channel": event.channel,
        "receipt_id": event.receipt_id,
        "hash": event.hash,
    }
