"""The requests API, /api/v1/requests: an organisation's own app or site files a person's
request (OpenDSR-compatible), reads where it stands, and withdraws it for the person, with an
API key of the organisation (`requests:write` / `requests:read`). Status changes are sent to
the request's callback addresses (rights.callbacks).

Errors are JSON: `{"detail": ..., "errors": [{"field": "subject_identities[0].identity_type",
"message": ...}]}` in the language of Accept-Language; another organisation's request is 404.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jagadata.accounts.deps import ApiKeyAuth, _api_error, now_of, settings_of
from jagadata.accounts.keys import Scope
from jagadata.accounts.models import ApiKey
from jagadata.audit.service import Actor, record
from jagadata.consent.problems import field_of
from jagadata.db import atomic
from jagadata.i18n import N_, gettext, negotiate
from jagadata.manifest.schema import Manifest
from jagadata.orgs.models import Organisation
from jagadata.rights import callbacks, service
from jagadata.rights.grounds import GROUNDS
from jagadata.rights.messages import send_code
from jagadata.rights.models import (
    AttachmentKind,
    RequestAttachment,
    RightsRequest,
    Verification,
)
from jagadata.rights.opendsr import (
    EXAMPLE_REQUEST,
    KIND_OF_IDENTITY,
    OPENDSR_STATUS,
    RIGHT_OF_TYPE,
    CallbackSecretPublic,
    FieldError,
    OpenDsrStatus,
    ProblemPublic,
    RequestIn,
    RequestListPublic,
    RequestPublic,
    checked,
    field_of_problem,
    identifier_for,
)
from jagadata.rights.service import RequestProblem
from jagadata.rights.states import EventKind, RequestChannel, RequestStatus
from jagadata.rights.workflow import TransitionRefused, is_open
from jagadata.web.deps import SessionDep

MAX_BODY_BYTES: Final = 32 * 1024
FRESH_CODE_AFTER: Final = timedelta(minutes=10)
"""A request submitted longer ago than this gets a fresh code (one issued at its receipt would
have less than 20 of its 30 minutes left)."""
PER_PAGE: Final = 50
ORIGINAL_NAME: Final = "opendsr-request.json"

INVALID: Final = N_("The request is not valid; see errors.")
NOT_FILED: Final = N_("Nothing was filed: the request is not valid; see errors.")
UNREADABLE: Final = N_("The body cannot be read: send JSON in UTF-8.")


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "rights")


def problem(
    request: Request,
    status: int,
    detail: str,
    errors: list[FieldError],
    values: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """`{"detail": ..., "errors": [{"field", "message"}]}`, translated from the rights domain
    (pydantic's own messages, not in the catalogue, stay as they are)."""
    lang = negotiate(request.headers.get("accept-language"))
    body = {
        "detail": _filled(_t(lang, detail), values),
        "errors": [
            {"field": e.field, "message": _filled(_t(lang, e.message), e.values)} for e in errors
        ],
    }
    return JSONResponse(body, status_code=status)


def _filled(text: str, values: Mapping[str, Any] | None) -> str:
    return text.format(**values) if values else text


class RequestsRoute(APIRoute):
    """Validation errors in the API's own shape: every field with its place."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as error:
                if error.status_code != 400:
                    raise
                return problem(request, 400, UNREADABLE, [FieldError("body", UNREADABLE)])
            except RequestValidationError as invalid:
                errors = [
                    FieldError(field_of(tuple(error.get("loc", ()))), str(error.get("msg", "")))
                    for error in invalid.errors()
                ]
                return problem(request, 422, INVALID, errors)

        return route


router = APIRouter(prefix="/api/v1", tags=["requests"], route_class=RequestsRoute)


@dataclass(frozen=True)
class Caller:
    key: ApiKey
    organisation: Organisation

    @property
    def actor(self) -> Actor:
        return Actor.api_key(self.key.id, self.key.name)


def _caller(required: Scope) -> Callable[..., Caller]:
    """The key's organisation (the key says which), when the key holds `required` (else 403)."""

    def dependency(request: Request, session: SessionDep, key: ApiKeyAuth) -> Caller:
        if required.value not in key.scopes:
            raise _api_error(request, 403, N_("This API key does not have the scope needed."))
        organisation = session.get(Organisation, key.organisation_id)
        if organisation is None:  # a foreign key: only a deleted organisation
            raise HTTPException(status_code=404)
        return Caller(key, organisation)

    dependency.__name__ = f"requires_{required.name.lower()}"
    return dependency


Writer = Annotated[Caller, Depends(_caller(Scope.REQUESTS_WRITE))]
Reader = Annotated[Caller, Depends(_caller(Scope.REQUESTS_READ))]

ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"model": ProblemPublic, "description": "The body is not JSON in UTF-8."},
    401: {"model": ProblemPublic, "description": "No API key, or an unknown or revoked one."},
    403: {"model": ProblemPublic, "description": "The key lacks the scope needed."},
    422: {"model": ProblemPublic, "description": "Not valid: each problem with its field."},
}
NOT_FOUND: Final[dict[int | str, dict[str, Any]]] = {
    404: {"model": ProblemPublic, "description": "No request with this id for this organisation."},
}


async def raw_body(request: Request) -> bytes:
    """The body as received: kept with the request as its original (OpenDSR encoded_request)."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


# --- filing ---------------------------------------------------------------------------------


@router.post(
    "/requests",
    response_model=RequestPublic,
    status_code=201,
    responses={
        **ERRORS,
        200: {"model": RequestPublic, "description": "The same request, sent again."},
        409: {"model": ProblemPublic, "description": "The id was used for another request."},
    },
)
def file_request(
    body: Annotated[RequestIn, Body(openapi_examples={"erasure": {"value": EXAMPLE_REQUEST}})],
    raw: RawBody,
    request: Request,
    session: SessionDep,
    caller: Writer,
) -> Response:
    """File a person's request (OpenDSR) the moment your app receives it (Art. 14).

    The deadline runs from `submitted_time`. Unless `extensions.jagadata.identity_verified`, the
    person gets a one-time code at the identifier given (email or WhatsApp), or staff verify a
    customer number or NIK by hand. Sending the same `subject_request_id` again is safe.
    """
    moment = now_of(request)
    existing = _by_external_id(session, caller.organisation.id, body.subject_request_id)
    if existing is not None:
        return _replay(request, session, caller, existing, body)
    if len(raw) > MAX_BODY_BYTES:
        message = N_("The body is too large: at most {n} bytes.")
        return problem(
            request, 422, NOT_FILED, [FieldError("body", message, {"n": MAX_BODY_BYTES})]
        )
    try:
        _number, manifest = service.manifest_in_force(session, caller.organisation)
    except RequestProblem:
        message = N_("The organisation has no published manifest yet.")
        return problem(request, 409, message, [])
    errors = checked(body, manifest, moment, settings_of(request).mode)
    if errors:
        return problem(request, 422, NOT_FILED, errors)
    try:
        with atomic(session):
            filed = _file(request, session, caller, body, raw, manifest, moment)
    except RequestProblem as wrong:
        return problem(request, 422, NOT_FILED, [field_of_problem(wrong, body, manifest)])
    except IntegrityError:  # the same id filed at the same moment by a retry
        existing = _by_external_id(session, caller.organisation.id, body.subject_request_id)
        if existing is None:
            raise
        return _replay(request, session, caller, existing, body)
    document = _document(session, caller, filed, base_url=settings_of(request).base_url)
    return JSONResponse(document, status_code=201)


def _by_external_id(session: Session, organisation_id: int, external: UUID) -> RightsRequest | None:
    return session.scalars(
        select(RightsRequest).where(
            RightsRequest.organisation_id == organisation_id,
            RightsRequest.external_id == str(external),
        )
    ).first()


def _original(session: Session, found: RightsRequest) -> RequestAttachment | None:
    return session.scalars(
        select(RequestAttachment)
        .where(
            RequestAttachment.request_id == found.id,
            RequestAttachment.kind == AttachmentKind.ORIGINAL.value,
        )
        .order_by(RequestAttachment.id)
        .limit(1)
    ).first()


def _replay(
    request: Request, session: Session, caller: Caller, found: RightsRequest, body: RequestIn
) -> Response:
    """The same id again: the same request (200) if the body says the same, else 409."""
    original = _original(session, found)
    same = False
    if original is not None:
        try:
            same = RequestIn.model_validate_json(base64.b64decode(original.content)) == body
        except ValueError:
            same = False
    if not same:
        return problem(
            request,
            409,
            N_("This subject_request_id was used for a different request; use a new id."),
            [FieldError("subject_request_id", N_("Already used for a different request."))],
        )
    document = _document(session, caller, found, base_url=settings_of(request).base_url)
    return JSONResponse(document, status_code=200)


def _file(
    request: Request,
    session: Session,
    caller: Caller,
    body: RequestIn,
    raw: bytes,
    manifest: Manifest,
    moment: datetime,
) -> RightsRequest:
    """File it, keep the original, verify or send the code: one transaction."""
    first = body.subject_identities[0]
    identifier = identifier_for(manifest, KIND_OF_IDENTITY[first.identity_type])
    assert identifier is not None  # checked
    ext = body.jagadata
    details: dict[str, Any] = {}
    if ext.details and ext.details.strip():
        details["text"] = ext.details.strip()
    if len(body.subject_identities) > 1:
        details["identities"] = [
            {"type": i.identity_type.value, "value": i.identity_value}
            for i in body.subject_identities[1:]
        ]
    received = min(body.submitted_time, moment)
    filed = service.file_request(
        session=session,
        organisation=caller.organisation,
        right=RIGHT_OF_TYPE[body.subject_request_type],
        identifier=identifier,
        value=first.identity_value,
        details=details,
        language=ext.language,
        channel=RequestChannel.API,
        actor=caller.actor,
        on_behalf=ext.on_behalf,
        authority=ext.authority.model_dump() if ext.authority else None,
        received_at=received,
        external_id=str(body.subject_request_id),
        callback_url=callbacks.encode_callbacks(body.status_callback_urls),
        settings=settings_of(request),
        issue_code=not ext.identity_verified,
    )
    found = filed.request
    _keep_original(session, found, raw, caller, moment)
    if ext.identity_verified:
        service.verify_manually(
            session,
            found,
            actor=caller.actor,
            reason="identity verified by the organisation's app",
            method="api",
            now=moment,
        )
        return found
    code, link = filed.code, filed.link_token
    if code is not None and received < moment - FRESH_CODE_AFTER:
        code, link = service.issue_code(session, found, now=moment)  # the first one has aged
    if code is not None and link is not None:
        base = settings_of(request).base_url.rstrip("/")
        send_code(
            session,
            found,
            organisation_name=caller.organisation.name,
            code=code,
            link=f"{base}/o/{caller.organisation.slug}/requests/link/{link}",
        )
    return found


def _waiting_codes(session: Session, found: RightsRequest) -> list[Verification]:
    return list(
        session.scalars(
            select(Verification).where(
                Verification.request_id == found.id, Verification.used_at.is_(None)
            )
        )
    )


def _keep_original(
    session: Session, found: RightsRequest, raw: bytes, caller: Caller, moment: datetime
) -> None:
    """The body as received, encrypted with the request: its evidence and its idempotency."""
    digest = hashlib.sha256(raw).hexdigest()
    attachment = RequestAttachment(
        organisation_id=found.organisation_id,
        request_id=found.id,
        kind=AttachmentKind.ORIGINAL.value,
        filename=ORIGINAL_NAME,
        media_type="application/json",
        size=len(raw),
        sha256=digest,
        content=base64.b64encode(raw).decode("ascii"),
        uploaded_at=moment,
    )
    session.add(attachment)
    session.flush()
    service.append(
        session,
        found,
        EventKind.NOTE,
        caller.actor,
        {"attachment": attachment.id, "kind": AttachmentKind.ORIGINAL.value, "sha256": digest},
        at=moment,
    )


# --- reading --------------------------------------------------------------------------------


def _verification(session: Session, found: RightsRequest) -> dict[str, Any]:
    if found.verified_at is not None:
        return {"status": "verified", "method": found.verification_method, "code_sent": False}
    code_sent = bool(_waiting_codes(session, found)) and found.status == RequestStatus.RECEIVED
    return {"status": "pending", "method": None, "code_sent": code_sent}


def _results(found: RightsRequest, lang: str) -> dict[str, Any] | None:
    status = RequestStatus(found.status)
    if is_open(status):
        return None
    result: dict[str, Any] = {
        "outcome": status.value,
        "reason_code": None,
        "article": None,
        "reason": None,
        "on_time": None,
    }
    if status is RequestStatus.REFUSED and found.refusal_ground in GROUNDS:
        ground = GROUNDS[found.refusal_ground]
        result["reason_code"] = ground.key
        result["article"] = ground.article.cite(lang)
        result["reason"] = ground.label_in(lang)
    return result


def _document(
    session: Session,
    caller: Caller,
    found: RightsRequest,
    *,
    base_url: str,
    lang: str = "en",
    with_original: bool = True,
) -> dict[str, Any]:
    """The request as the API shows it: OpenDSR's fields, then jagadata's (no personal data
    outside `encoded_request`, which is what the app itself sent)."""
    slug = caller.organisation.slug
    status = RequestStatus(found.status)
    original = _original(session, found) if with_original else None
    timeline = service.timeline(session, found)
    closing = next((e for e in reversed(timeline) if e.kind in ("fulfilled", "refused")), None)
    results = _results(found, lang)
    if results is not None and closing is not None:
        results["on_time"] = closing.data.get("on_time")
    base = base_url.rstrip("/")
    return {
        "controller_id": slug,
        "subject_request_id": found.external_id,
        "request_status": OPENDSR_STATUS[status].value,
        "received_time": found.received_at.isoformat(),
        "expected_completion_time": found.due_at.isoformat() if found.due_at else None,
        "encoded_request": original.content if original is not None else None,
        "results_url": callbacks.results_url(session, found, base_url, slug),
        "results": results,
        "reference": found.reference,
        "right": found.right,
        "status": status.value,
        "verification": _verification(session, found),
        "deadline": {**found.deadline, "zone": found.zone},
        "paused": found.paused_since is not None,
        "status_callback_urls": callbacks.callback_urls(found),
        "timeline": [
            {
                "sequence": e.sequence,
                "kind": e.kind,
                "at": e.at.isoformat(),
                "status_after": e.status_after,
            }
            for e in timeline
        ],
        "links": {
            "self": f"{base}/api/v1/requests/{found.external_id}",
            "status_page": callbacks.status_page_url(base, slug, found.reference),
        },
    }


def _lang(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


def _not_found(request: Request) -> JSONResponse:
    return problem(request, 404, N_("There is no request with this subject_request_id."), [])


@router.get(
    "/requests/callback-secret",
    response_model=CallbackSecretPublic,
    responses={k: v for k, v in ERRORS.items() if k != 422},
)
def get_callback_secret(caller: Writer) -> CallbackSecretPublic:
    """The secret that signs your status callbacks (X-Jagadata-Signature: sha256= HMAC of
    "<timestamp>.<body>"), to check each callback before trusting it."""
    return CallbackSecretPublic(
        secret=callbacks.callback_secret(caller.organisation.id),
        signature_header="X-Jagadata-Signature",
        algorithm="sha256=HMAC-SHA256(secret, timestamp + '.' + raw body)",
    )


@router.get(
    "/requests/{subject_request_id}",
    response_model=RequestPublic,
    responses={**ERRORS, **NOT_FOUND},
)
def get_request(
    subject_request_id: UUID, request: Request, session: SessionDep, caller: Reader
) -> Response:
    """Where the request stands (OpenDSR status), its deadline and timeline; reading it is
    recorded in the audit trail (the answer holds the request as sent)."""
    found = _by_external_id(session, caller.organisation.id, subject_request_id)
    if found is None:
        return _not_found(request)
    with atomic(session):
        record(
            session=session,
            organisation_id=caller.organisation.id,
            actor=caller.actor,
            action="person.viewed",
            target_type="rights_request",
            target_id=found.reference,
            subject_ref=found.subject_ref,
            occurred_at=now_of(request),
            details={"view": "request"},
        )
    document = _document(
        session, caller, found, base_url=settings_of(request).base_url, lang=_lang(request)
    )
    return JSONResponse(document)


@router.get("/requests", response_model=RequestListPublic, responses=ERRORS)
def list_requests(
    request: Request,
    session: SessionDep,
    caller: Reader,
    status: Annotated[OpenDsrStatus | None, Query(description="OpenDSR status.")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Requests filed through the API, newest first, 50 a page (without `encoded_request`)."""
    query = select(RightsRequest).where(
        RightsRequest.organisation_id == caller.organisation.id,
        RightsRequest.external_id.is_not(None),
    )
    if status is not None:
        statuses = [s.value for s, o in OPENDSR_STATUS.items() if o is status]
        query = query.where(RightsRequest.status.in_(statuses))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(RightsRequest.received_at.desc(), RightsRequest.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    )
    base_url, lang = settings_of(request).base_url, _lang(request)
    return JSONResponse(
        {
            "page": page,
            "per_page": PER_PAGE,
            "total": total,
            "requests": [
                _document(session, caller, row, base_url=base_url, lang=lang, with_original=False)
                for row in rows
            ],
        }
    )


@router.delete(
    "/requests/{subject_request_id}",
    response_model=RequestPublic,
    responses={
        **ERRORS,
        **NOT_FOUND,
        409: {"model": ProblemPublic, "description": "The request is already closed."},
    },
)
def withdraw_request(
    subject_request_id: UUID, request: Request, session: SessionDep, caller: Writer
) -> Response:
    """The person withdraws the request: it stops being handled; its record stays."""
    found = _by_external_id(session, caller.organisation.id, subject_request_id)
    if found is None:
        return _not_found(request)
    try:
        with atomic(session):
            service.withdraw(session, found, actor=caller.actor, now=now_of(request))
    except TransitionRefused:
        return problem(
            request,
            409,
            N_("The request is already closed ({status}); nothing was changed."),
            [],
            {"status": found.status},
        )
    document = _document(
        session, caller, found, base_url=settings_of(request).base_url, lang=_lang(request)
    )
    return JSONResponse(document)
