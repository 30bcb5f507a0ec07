"""The consent API, /api/v1/orgs/{org}/consent/...: record, check, withdraw, read a history
or a consent record, with an organisation's API key (`consent:write` / `consent:read`).

Errors are JSON: `{"detail": ..., "errors": [{"field": "events[3].purpose", "message": ...}]}`
in the language of Accept-Language; a key of another organisation gets 404.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from jagadata.accounts.deps import ApiCaller, api_key_for, bearer, now_of, verified_api_key
from jagadata.accounts.keys import Scope
from jagadata.audit.service import Actor, record
from jagadata.consent import records, state
from jagadata.consent.problems import (
    INVALID,
    NOT_RECORDED,
    ConsentRoute,
    problem,
    request_language,
)
from jagadata.consent.receipts import load_receipt, receipt_url, short_url
from jagadata.consent.schemas import (
    SUBJECT_REF_PATTERN,
    BatchPublic,
    CheckBatchIn,
    CheckResultsPublic,
    ConsentPurposePublic,
    ConsentPurposesPublic,
    EventBatchIn,
    HistoryPublic,
    Identity,
    ProblemPublic,
    ReceiptPublic,
    SubjectIn,
    SubjectPublic,
    WithdrawIn,
)
from jagadata.consent.service import (
    ConsentInvalid,
    FieldError,
    IdempotencyConflict,
    LedgerEvent,
    Recorded,
    record_events,
)
from jagadata.consent.terms import version_manifest
from jagadata.consent.validation import resolve_subject
from jagadata.consent.withdrawal import withdraw
from jagadata.db import atomic
from jagadata.i18n import N_
from jagadata.orgs.service import get_version
from jagadata.web.deps import ORG_SLUG_PATTERN, SessionDep

MAX_HISTORY: Final = 10_000


router = APIRouter(prefix="/api/v1", tags=["consent"], route_class=ConsentRoute)

OrgSlug = Annotated[
    str,
    Path(
        pattern=ORG_SLUG_PATTERN,
        description="The organisation's slug.",
        examples=["la-gelato-academy"],
    ),
]
SubjectRefPath = Annotated[
    str,
    Path(
        pattern=SUBJECT_REF_PATTERN,
        description="The person's subject_ref.",
        examples=["anon_3f1c9a7e-5b2d-4c1e-9f3a-2b7d8e6f0a1c"],
    ),
]
Writer = Annotated[ApiCaller, Depends(api_key_for(Scope.CONSENT_WRITE))]
Reader = Annotated[ApiCaller, Depends(api_key_for(Scope.CONSENT_READ))]
IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=120,
        pattern=r"^[\x21-\x7e]+$",
        description="Names the whole batch: a retry with the same key and body records nothing "
        "new and returns the first answer.",
    ),
]

ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"model": ProblemPublic, "description": "The body is not JSON in UTF-8."},
    401: {"model": ProblemPublic, "description": "No API key, or an unknown or revoked one."},
    403: {"model": ProblemPublic, "description": "The key lacks the scope needed."},
    404: {"model": ProblemPublic, "description": "No such organisation (for this key)."},
    422: {"model": ProblemPublic, "description": "Not valid: each problem with its field."},
}
CONFLICT: Final[dict[int | str, dict[str, Any]]] = {
    409: {"model": ProblemPublic, "description": "The key was used for another batch."},
}


def _actor(caller: ApiCaller) -> Actor:
    return Actor.api_key(caller.key.id, caller.key.name)


def _client(request: Request) -> tuple[str | None, str | None]:
    return (request.client.host if request.client else None, request.headers.get("user-agent"))


def _base_url(request: Request) -> str:
    return str(request.app.state.settings.base_url)


def event_json(event: LedgerEvent, slug: str, base_url: str) -> dict[str, Any]:
    receipt = event.receipt_id
    return {
        "sequence": event.sequence,
        "kind": event.kind,
        "subject_ref": event.subject_ref,
        "purpose": event.purpose,
        "manifest_version": event.manifest_version,
        "notice_hash": event.notice_hash,
        "language": event.language,
        "channel": event.channel,
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "expires_at": event.expires_at.isoformat() if event.expires_at else None,
        "child": event.child,
        "guardian_ref": event.guardian_ref,
        "evidence": event.evidence,
        "collector": records.collector(event.actor_kind, event.actor_id),
        "idempotency_key": event.idempotency_key,
        "receipt_url": receipt_url(base_url, slug, receipt) if receipt else None,
        "receipt_short_url": short_url(base_url, receipt) if receipt else None,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
        "replayed": event.replayed,
    }


def _recorded(request: Request, caller: ApiCaller, recorded: Recorded) -> JSONResponse:
    base_url, slug = _base_url(request), caller.organisation.slug
    body = {
        "replayed": recorded.replayed,
        "events": [event_json(e, slug, base_url) for e in recorded.events],
    }
    new = any(not event.replayed for event in recorded.events)
    return JSONResponse(body, status_code=201 if new else 200)


@router.post(
    "/orgs/{org}/consent/events",
    response_model=BatchPublic,
    status_code=201,
    responses={**ERRORS, **CONFLICT, 200: {"model": BatchPublic, "description": "A replay."}},
)
def record_batch(
    org: OrgSlug,
    body: EventBatchIn,
    request: Request,
    session: SessionDep,
    caller: Writer,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    """Record up to 1,000 consent events, all or nothing (201; 200 when all were recorded before).

    Each event names a consent-based purpose of the manifest in force, the language and channel
    the consent text was shown in, and evidence. The person is `subject` (hashed on arrival) or
    `subject_ref`. Given and renewed events come with the person's signed receipt.
    """
    ip, user_agent = _client(request)
    try:
        with atomic(session):
            recorded = record_events(
                session=session,
                organisation_id=caller.organisation.id,
                events=body.events,
                actor=_actor(caller),
                batch_key=idempotency_key,
                now=now_of(request),
                ip=ip,
                user_agent=user_agent,
            )
    except ConsentInvalid as invalid:
        return problem(request, 422, NOT_RECORDED, invalid.errors)
    except IdempotencyConflict:
        return _conflict(request)
    return _recorded(request, caller, recorded)


def _conflict(request: Request) -> JSONResponse:
    return problem(
        request,
        409,
        N_("This Idempotency-Key was used for a different request; use a new key."),
        [FieldError("Idempotency-Key", N_("Already used for a different request."))],
    )


def _subject_ref(identity: Identity | None, reference: str | None, where: str) -> str:
    return resolve_subject(identity, reference, where)


async def quick_reader(
    org: OrgSlug,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AsyncIterator[tuple[Session, int]]:
    """The session and organisation of a check with a `consent:read` key, found on the event
    loop: the same answers as `api_key_for` (401, 404, 403), from a key proven in the last few
    seconds when there is one (`keys.verified`), without the hand-offs to the thread pool that
    sync dependencies cost. Answering a check fast is its whole point (benchmark B4)."""
    with request.app.state.sessions() as session:
        key = verified_api_key(org, request, session, credentials, Scope.CONSENT_READ)
        yield session, key.organisation_id


QuickReader = Annotated[tuple[Session, int], Depends(quick_reader)]


class CheckRoute(ConsentRoute):
    """The check's route: its usual case — a well-formed JSON body and a bearer key — is
    answered without FastAPI's dependency solving (a third of a check's time, benchmark B4),
    by `_fast_check`; anything else (no key, a body that is not valid, another content type)
    goes through the route as declared, which gives the documented answers and errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        declared = super().get_route_handler()

        async def route(request: Request) -> Response:
            fast = await _fast_check(request)
            return fast if fast is not None else await declared(request)

        return route


async def _fast_check(request: Request) -> Response | None:
    """The answer of `check_consent` when the request is in the usual shape, else None (the
    declared route answers). The same validation: the slug pattern, the bearer scheme, the
    body as `CheckBatchIn`, the key through `verified_api_key`."""
    org = request.path_params.get("org", "")
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if (
        scheme.lower() != "bearer"
        or not token
        or media_type != "application/json"
        or not _SLUG.fullmatch(org)
    ):
        return None
    try:
        body = CheckBatchIn.model_validate(json.loads(await request.body()))
    except (ValueError, ValidationError):  # JSON, UTF-8 or validation: say so as declared
        return None
    credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=token)
    with request.app.state.sessions() as session:
        key = verified_api_key(org, request, session, credentials, Scope.CONSENT_READ)
        return _check(request, body, session, key.organisation_id)


_SLUG: Final = re.compile(ORG_SLUG_PATTERN)


async def check_consent(
    org: OrgSlug, body: CheckBatchIn, request: Request, reader: QuickReader
) -> Response:
    """May we process this person's data for this purpose now? For one person and purpose, or
    up to 1,000 pairs in `checks`. Each answer says why and names the event it rests on."""
    session, organisation_id = reader
    return _check(request, body, session, organisation_id)


router.add_api_route(
    "/orgs/{org}/consent/check",
    check_consent,
    methods=["POST"],
    response_model=CheckResultsPublic,
    responses=ERRORS,
    route_class_override=CheckRoute,
)


def _check(
    request: Request, body: CheckBatchIn, session: Session, organisation_id: int
) -> Response:
    """The check's answer, the same from either path of `CheckRoute`."""
    now = now_of(request)
    try:
        if body.checks is not None:
            if body.subject or body.subject_ref or body.purpose:
                raise ConsentInvalid(
                    [
                        FieldError(
                            "checks",
                            N_("Give one check at the top level, or a list in checks, not both."),
                        )
                    ]
                )
            pairs = [
                (_subject_ref(c.subject, c.subject_ref, f"checks[{i}].subject"), c.purpose)
                for i, c in enumerate(body.checks)
            ]
            answers = state.check_many(
                session=session, organisation_id=organisation_id, pairs=pairs, now=now
            )
        else:
            if body.purpose is None:
                raise ConsentInvalid([FieldError("purpose", N_("Name the purpose to check."))])
            subject = _subject_ref(body.subject, body.subject_ref, "subject")
            answers = [_check_one(session, organisation_id, subject, body.purpose, now)]
    except ConsentInvalid as invalid:
        session.rollback()
        return problem(request, 422, INVALID, invalid.errors)
    except state.NotAConsentPurpose as wrong:
        session.rollback()
        message = (
            N_(
                "{purpose} is not a consent-based purpose of manifest version {version}; "
                "its legal basis is not consent (Art. 20(2)(a))."
            )
            if wrong.exists
            else N_("{purpose} is not a purpose of manifest version {version}.")
        )
        return problem(
            request,
            422,
            INVALID,
            [FieldError("purpose", message, {"purpose": wrong.purpose, "version": wrong.version})],
        )
    if session.in_transaction():  # a batch, or a check that explained a purpose
        session.commit()
    return JSONResponse({"results": [_answer_json(a) for a in answers]})


def _reading(engine: Engine) -> Connection:
    """A connection for one read. On PostgreSQL in autocommit: no BEGIN and no ROLLBACK round
    trips. SQLite starts no transaction for a read anyway (and switching its isolation level
    back costs a PRAGMA)."""
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def _check_one(
    session: Session, organisation_id: int, subject_ref: str, purpose: str, now: datetime
) -> state.Answer:
    """One check in one statement on a connection of its own (`_reading`); the organisation is
    the key's, which `quick_reader` proved. An unknown purpose or a missing manifest falls back
    to `state.check`, which says why."""
    bind = session.get_bind()
    if isinstance(bind, Engine):
        with _reading(bind) as connection:
            answer = state.check_on(
                connection,
                organisation_id=organisation_id,
                subject_ref=subject_ref,
                purpose=purpose,
                now=now,
            )
        if answer is not None:
            return answer
    return state.check(
        session=session,
        organisation_id=organisation_id,
        subject_ref=subject_ref,
        purpose=purpose,
        now=now,
    )


def _answer_json(answer: state.Answer) -> dict[str, Any]:
    event = answer.event
    return {
        "subject_ref": answer.subject_ref,
        "purpose": answer.purpose,
        "allowed": answer.allowed,
        "reason": answer.reason.value,
        "event": {
            "sequence": event.sequence,
            "kind": event.kind,
            "occurred_at": event.occurred_at.isoformat(),
            "manifest_version": event.manifest_version,
            "hash": event.hash,
        }
        if event
        else None,
        "expires_at": answer.expires_at.isoformat() if answer.expires_at else None,
        "manifest_version": answer.manifest_version,
        "valid_from_version": answer.valid_from_version,
    }


@router.post(
    "/orgs/{org}/consent/withdraw",
    response_model=BatchPublic,
    status_code=201,
    responses={**ERRORS, **CONFLICT, 200: {"model": BatchPublic, "description": "Nothing new."}},
)
def withdraw_consent(
    org: OrgSlug, body: WithdrawIn, request: Request, session: SessionDep, caller: Writer
) -> Response:
    """Withdraw a person's consent (Art. 9, 40) for the purposes named, or for every purpose
    they consented to; processing must stop within 72 hours."""
    ip, user_agent = _client(request)
    try:
        subject = _subject_ref(body.subject, body.subject_ref, "subject")
        with atomic(session):
            recorded = withdraw(
                session=session,
                organisation_id=caller.organisation.id,
                subject_ref=subject,
                actor=_actor(caller),
                purposes=body.purposes,
                language=body.language,
                channel=body.channel,
                occurred_at=body.occurred_at,
                evidence=body.evidence,
                idempotency_key=body.idempotency_key,
                now=now_of(request),
                ip=ip,
                user_agent=user_agent,
            )
    except ConsentInvalid as invalid:
        return problem(
            request,
            422,
            NOT_RECORDED,
            [
                FieldError(e.field.replace("events[", "purposes["), e.message, e.values)
                for e in invalid.errors
            ],
        )
    except IdempotencyConflict:
        return _conflict(request)
    return _recorded(request, caller, recorded)


@router.post("/orgs/{org}/consent/subjects/resolve", response_model=SubjectPublic, responses=ERRORS)
def subject_ref_of(org: OrgSlug, body: SubjectIn, request: Request, caller: Reader) -> Response:
    """The subject_ref jagadata names a person by (a keyed hash of the normalised identity)."""
    try:
        return JSONResponse({"subject_ref": _subject_ref(body.subject, None, "subject")})
    except ConsentInvalid as invalid:
        return problem(request, 422, INVALID, invalid.errors)


def _viewed(request: Request, session: Any, caller: ApiCaller, subject_ref: str, what: str) -> None:
    ip, user_agent = _client(request)
    with atomic(session):
        record(
            session=session,
            organisation_id=caller.organisation.id,
            actor=_actor(caller),
            action="person.viewed",
            target_type="consent_record",
            subject_ref=None if subject_ref.startswith("anon_") else subject_ref,
            ip=ip,
            user_agent=user_agent,
            occurred_at=now_of(request),
            details={"view": what},
        )


@router.get(
    "/orgs/{org}/consent/subjects/{subject_ref}/history",
    response_model=HistoryPublic,
    responses=ERRORS,
)
def subject_history(
    org: OrgSlug,
    subject_ref: SubjectRefPath,
    request: Request,
    session: SessionDep,
    caller: Reader,
) -> Response:
    """Every consent event of a person, oldest first (the read is audited: person.viewed)."""
    _viewed(request, session, caller, subject_ref, "history")
    events = state.history(
        session=session,
        organisation_id=caller.organisation.id,
        subject_ref=subject_ref,
        limit=MAX_HISTORY,
    )
    base_url, slug = _base_url(request), caller.organisation.slug
    return JSONResponse(
        {
            "subject_ref": subject_ref,
            "events": [event_json(LedgerEvent.of_event(e), slug, base_url) for e in events],
        }
    )


@router.get(
    "/orgs/{org}/consent/records/{subject_ref}",
    responses={**ERRORS, 200: {"description": "The ISO/IEC TS 27560 consent record."}},
)
def consent_record(
    org: OrgSlug,
    subject_ref: SubjectRefPath,
    request: Request,
    session: SessionDep,
    caller: Reader,
) -> Response:
    """A person's consent record in the ISO/IEC TS 27560 structure: notice, language, purposes,
    data categories, controller, retention, jurisdiction, recipients, withdrawal, events."""
    _viewed(request, session, caller, subject_ref, "record")
    document = records.consent_record(
        session=session,
        organisation=caller.organisation,
        subject_ref=subject_ref,
        base_url=_base_url(request),
        lang=request_language(request),
        now=now_of(request),
    )
    return JSONResponse(document)


@router.get("/orgs/{org}/consent/purposes", response_model=ConsentPurposesPublic, responses=ERRORS)
def consent_purposes(
    org: OrgSlug, request: Request, session: SessionDep, caller: Reader
) -> ConsentPurposesPublic:
    """The consent-based purposes of the manifest in force: their texts and the hashes an event
    records, for a form, a banner or a message to show exactly what the ledger will prove."""
    number, terms = state.consent_purposes(
        session=session, organisation_id=caller.organisation.id, now=now_of(request)
    )
    version = get_version(session=session, organisation=caller.organisation, number=number)
    manifest = version_manifest(version) if version else None
    purposes = []
    for item in terms:
        purpose = manifest.purpose(item.purpose) if manifest else None
        if purpose is None or purpose.consent is None:
            continue
        purposes.append(
            ConsentPurposePublic(
                purpose=purpose.id,
                name=purpose.name.get("id"),
                manifest_version=number,
                texts={lang: purpose.consent.text.get(lang) for lang in item.notice_hashes},
                notice_hashes=item.notice_hashes,
                renew_after=item.renew_after,
                collected_via=list(item.collected_via),
                withdrawal=[c.value for c in purpose.consent.withdrawal],
                children_only=item.children_only,
            )
        )
    return ConsentPurposesPublic(manifest_version=number, purposes=purposes)


@router.get(
    "/orgs/{org}/consent/receipts/{receipt_id}", response_model=ReceiptPublic, responses=ERRORS
)
def get_receipt(
    org: OrgSlug,
    receipt_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,32}$")],
    request: Request,
    session: SessionDep,
    caller: Reader,
) -> Response:
    """A receipt as JSON: its Kantara payload, the compact JWS, and links for the person."""
    base_url = _base_url(request)
    found = load_receipt(
        session=session, organisation=caller.organisation, receipt_id=receipt_id, base_url=base_url
    )
    if found is None:
        return problem(request, 404, N_("There is no receipt with this id."), [])
    return JSONResponse(
        {
            "receipt_id": receipt_id,
            "url": receipt_url(base_url, caller.organisation.slug, receipt_id),
            "short_url": short_url(base_url, receipt_id),
            "jws": found.jws,
            "receipt": found.payload,
        }
    )
