"""The person downloads their access bundle once, after proving again that the identifier is
theirs (Art. 35-39: the copy is the most sensitive thing jagadata sends out).

    GET  /o/{org}/requests/{ref}/download?k=…       what is waiting; a button to get a code
    POST /o/{org}/requests/{ref}/download/code?k=…  a fresh one-time code to the identifier
    POST /o/{org}/requests/{ref}/download?k=…       the code; right: the zip, streamed once

`k` is the bundle's own token (the link in the message) or the key of the request's status
page. Opening the page sends nothing: a mail scanner following the link must not use up codes.
Codes are `Verification` rows of channel `download` (hashed, 15 minutes, 5 attempts, 5 per
bundle). Once downloaded, or once its 7 days pass, the copy is erased (`content` = None) and the
page answers 410 with how to ask again; the bundle's hash stays as evidence.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from jagadata.accounts import ratelimit
from jagadata.accounts.deps import now_of
from jagadata.audit.service import Actor, record
from jagadata.crypto import get_keyring
from jagadata.db.tenancy import across_organisations, acting_for, scope
from jagadata.i18n import gettext
from jagadata.manifest.schema import Manifest
from jagadata.orgs.models import Organisation
from jagadata.rights import confirmations, service
from jagadata.rights.bundle import token_hash
from jagadata.rights.models import RequestBundle, RightsRequest, Verification
from jagadata.rights.pages import CODE_MESSAGES
from jagadata.rights.service import CodeRefused, RequestProblem
from jagadata.rights.states import EventKind
from jagadata.rights.templating import PRIVATE, local_time, render
from jagadata.web.deps import SessionDep, organisation_or_404
from jagadata.web.templating import choose_language

router = APIRouter(include_in_schema=False)

CHANNEL: Final = "download"
CODE_LIFETIME: Final = timedelta(minutes=15)
MAX_ATTEMPTS: Final = 5
MAX_CODES_PER_BUNDLE: Final = 5

__all__ = ["confirmations", "router"]  # importing this module registers the closing hook


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "rights")


class Gone(Exception):
    """The copy is no longer there: `reason` is `downloaded` or `expired`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- the operations -------------------------------------------------------------------------


def _moment(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _code_hash(verification_id: int, code: str) -> str:
    return get_keyring().lookup_hash("rights_download_code", f"{verification_id}:{code}")


def latest_bundle(session: Session, request: RightsRequest) -> RequestBundle | None:
    return session.scalars(
        select(RequestBundle)
        .where(RequestBundle.request_id == request.id)
        .order_by(RequestBundle.id.desc())
        .limit(1)
    ).first()


def find(
    session: Session, organisation_id: int, reference: str, key: str | None
) -> tuple[RightsRequest, RequestBundle] | None:
    """The request and bundle `key` opens: the bundle's token, or the status page's key."""
    if not key:
        return None
    request = session.scalars(
        select(RightsRequest).where(
            RightsRequest.organisation_id == organisation_id,
            RightsRequest.reference == reference,
        )
    ).first()
    if request is None:
        return None
    digest = token_hash(key)
    bundle = session.scalars(
        select(RequestBundle).where(
            RequestBundle.request_id == request.id, RequestBundle.token_hash == digest
        )
    ).first()
    if bundle is not None:
        return request, bundle
    if request.access_hash and hmac.compare_digest(request.access_hash, service.access_hash(key)):
        latest = latest_bundle(session, request)
        return (request, latest) if latest is not None else None
    return None


def check_available(
    session: Session, request: RightsRequest, bundle: RequestBundle, *, now: datetime | None = None
) -> None:
    """Raise Gone when the copy was downloaded or has expired (erasing it if it just did)."""
    if bundle.downloaded_at is not None:
        raise Gone("downloaded")
    if bundle.expires_at <= _moment(now):
        if bundle.content is not None:
            _erase(session, request, bundle, "bundle_expired", _moment(now))
        raise Gone("expired")


def issue_download_code(
    session: Session, request: RightsRequest, bundle: RequestBundle, *, now: datetime | None = None
) -> str:
    """A fresh 6-digit code for this bundle; earlier ones stop working."""
    moment = _moment(now)
    check_available(session, request, bundle, now=moment)
    earlier = list(
        session.scalars(
            select(Verification).where(
                Verification.request_id == request.id,
                Verification.channel == CHANNEL,
                Verification.sent_at >= bundle.created_at,
            )
        )
    )
    if len(earlier) >= MAX_CODES_PER_BUNDLE:
        raise RequestProblem("code", "too many codes were sent for this download")
    for old in earlier:
        if old.used_at is None:
            old.used_at = moment
    code = f"{secrets.randbelow(1_000_000):06d}"
    verification = Verification(
        organisation_id=request.organisation_id,
        request_id=request.id,
        channel=CHANNEL,
        code_hash="",
        link_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),  # never sent
        sent_at=moment,
        expires_at=moment + CODE_LIFETIME,
        attempts=0,
    )
    session.add(verification)
    session.flush()
    verification.code_hash = _code_hash(verification.id, code)
    service.append(
        session,
        request,
        EventKind.CODE_SENT,
        Actor.system(),
        {"channel": request.identifier_kind, "purpose": "download", "bundle": bundle.id},
        at=moment,
    )
    return code


def check_download_code(
    session: Session,
    request: RightsRequest,
    bundle: RequestBundle,
    code: str,
    *,
    now: datetime | None = None,
) -> None:
    """Raise CodeRefused (`no_code`, `expired`, `locked`, `wrong`) unless `code` is right."""
    moment = _moment(now)
    verification = session.scalars(
        select(Verification)
        .where(
            Verification.request_id == request.id,
            Verification.channel == CHANNEL,
            Verification.used_at.is_(None),
            Verification.sent_at >= bundle.created_at,
        )
        .order_by(Verification.id.desc())
        .limit(1)
    ).first()
    if verification is None:
        raise CodeRefused("no_code")
    if verification.expires_at <= moment:
        raise CodeRefused("expired")
    if verification.attempts >= MAX_ATTEMPTS:
        raise CodeRefused("locked")
    verification.attempts += 1
    if not hmac.compare_digest(verification.code_hash, _code_hash(verification.id, code.strip())):
        left = MAX_ATTEMPTS - verification.attempts
        service.append(
            session,
            request,
            EventKind.CODE_FAILED,
            Actor.data_subject(request.subject_ref),
            {"purpose": "download", "attempts_left": left},
            at=moment,
        )
        raise CodeRefused("wrong" if left else "locked", left)
    verification.used_at = moment


def take(
    session: Session, request: RightsRequest, bundle: RequestBundle, *, now: datetime | None = None
) -> bytes:
    """The zip's bytes, once: the copy is erased in the same transaction (compare-and-set, so
    two simultaneous downloads cannot both succeed)."""
    moment = _moment(now)
    check_available(session, request, bundle, now=moment)
    content = bundle.content
    if content is None:
        raise Gone("expired")
    data = base64.b64decode(content)
    claimed = session.execute(
        update(RequestBundle)
        .where(RequestBundle.id == bundle.id, RequestBundle.downloaded_at.is_(None))
        .values(downloaded_at=moment, content=None)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise Gone("downloaded")
    session.refresh(bundle)
    _record(
        session,
        request,
        bundle,
        "bundle_downloaded",
        moment,
        Actor.data_subject(request.subject_ref),
    )
    return data


def _erase(
    session: Session, request: RightsRequest, bundle: RequestBundle, what: str, moment: datetime
) -> None:
    bundle.content = None
    session.flush()
    _record(session, request, bundle, what, moment, Actor.system())


def _record(
    session: Session,
    request: RightsRequest,
    bundle: RequestBundle,
    what: str,
    moment: datetime,
    actor: Actor,
) -> None:
    data = {"event": what, "bundle": bundle.id, "sha256": bundle.sha256}
    service.append(session, request, EventKind.NOTE, actor, data, at=moment)
    record(
        session=session,
        organisation_id=request.organisation_id,
        actor=actor,
        action=f"rights.{what.replace('bundle_', 'bundle.')}",
        target_type="rights_request",
        target_id=request.reference,
        subject_ref=request.subject_ref,
        details={"bundle": bundle.id, "sha256": bundle.sha256},
    )


def expire_bundles(session: Session, *, now: datetime | None = None) -> int:
    """Erase every copy whose link has expired, in every organisation the session may see
    (for a periodic job); returns how many. The caller commits."""
    moment = _moment(now)
    with across_organisations(session):
        due = session.execute(
            select(RequestBundle.id, RequestBundle.organisation_id).where(
                RequestBundle.content.is_not(None), RequestBundle.expires_at <= moment
            )
        ).all()
    for bundle_id, organisation_id in due:
        with acting_for(session, organisation_id):
            bundle = session.get(RequestBundle, bundle_id)
            assert bundle is not None
            request = session.get(RightsRequest, bundle.request_id)
            assert request is not None
            _erase(session, request, bundle, "bundle_expired", moment)
    return len(due)


def codes_sent(session: Session, request: RightsRequest) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Verification)
            .where(Verification.request_id == request.id, Verification.channel == CHANNEL)
        )
        or 0
    )


# --- the pages ------------------------------------------------------------------------------


def _loaded(session: SessionDep, org: str) -> tuple[Organisation, Manifest]:
    organisation = organisation_or_404(session, org)
    scope(session, organisation.id)
    try:
        _number, manifest = service.manifest_in_force(session, organisation)
    except RequestProblem:
        raise HTTPException(status_code=404) from None
    return organisation, manifest


def _opened(
    request: Request, session: SessionDep, organisation: Organisation, ref: str
) -> tuple[RightsRequest, RequestBundle]:
    found = find(session, organisation.id, ref, request.query_params.get("k"))
    if found is None:
        raise HTTPException(status_code=404)
    return found


def _page(
    request: Request,
    organisation: Organisation,
    manifest: Manifest,
    lang: str,
    mine: RightsRequest,
    bundle: RequestBundle,
    *,
    step: str,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    template = (
        "rights/download_gone.html"
        if step in ("downloaded", "expired")
        else ("rights/download.html")
    )
    return render(
        request,
        template,
        lang=lang,
        status_code=status_code,
        context={
            "organisation": organisation,
            "centre_url": f"/o/{organisation.slug}/",
            "languages": list(manifest.languages),
            "contact": None,
            "item": mine,
            "bundle": bundle,
            "step": step,
            "error": error,
            "key": request.query_params.get("k", ""),
            "expires": local_time(bundle.expires_at, lang, mine.zone),
            "downloaded": local_time(bundle.downloaded_at, lang, mine.zone),
            "channel": _t(lang, "email") if mine.identifier_kind == "email" else "WhatsApp",
            "reachable": mine.identifier_kind in ("email", "phone"),
            "new_request": f"/o/{organisation.slug}/requests/new?right={mine.right}&lang={lang}",
        },
    )


@router.get("/o/{org}/requests/{ref}/download")
def download_page(request: Request, org: str, ref: str, session: SessionDep) -> Response:
    organisation, manifest = _loaded(session, org)
    lang = choose_language(request, manifest.languages)
    mine, bundle = _opened(request, session, organisation, ref)
    try:
        check_available(session, mine, bundle, now=now_of(request))
    except Gone as gone:
        session.commit()
        return _page(
            request, organisation, manifest, lang, mine, bundle, step=gone.reason, status_code=410
        )
    return _page(request, organisation, manifest, lang, mine, bundle, step="start")


@router.post("/o/{org}/requests/{ref}/download/code")
async def send_download_code(request: Request, org: str, ref: str, session: SessionDep) -> Response:
    organisation, manifest = _loaded(session, org)
    lang = choose_language(request, manifest.languages)
    mine, bundle = _opened(request, session, organisation, ref)
    moment = now_of(request)
    try:
        ratelimit.limit(
            session=session,
            scope="rights.download_code",
            key=mine.subject_ref,
            policy=ratelimit.SEND_CODE,
            now=moment,
        )
        code = issue_download_code(session, mine, bundle, now=moment)
    except Gone as gone:
        session.commit()
        return _page(
            request, organisation, manifest, lang, mine, bundle, step=gone.reason, status_code=410
        )
    except (ratelimit.Limited, RequestProblem):
        session.commit()
        message = _t(lang, "No more codes can be sent for now. Try again later, or contact us.")
        return _page(
            request,
            organisation,
            manifest,
            lang,
            mine,
            bundle,
            step="start",
            error=message,
            status_code=429,
        )
    subject = _t(lang, "Code to download your data ({reference})").format(reference=mine.reference)
    text = "\n".join(
        [
            _t(lang, "Your code to download your data for request {reference}: {code}").format(
                reference=mine.reference, code=code
            ),
            _t(lang, "It is valid for 15 minutes. Never share it with anyone."),
            _t(lang, "If you did not ask for it, ignore this message: nothing will happen."),
        ]
    )
    confirmations.deliver(session, mine, subject=subject, text_=text)
    session.commit()
    return _page(request, organisation, manifest, lang, mine, bundle, step="code")


@router.post("/o/{org}/requests/{ref}/download")
async def download(request: Request, org: str, ref: str, session: SessionDep) -> Response:
    organisation, manifest = _loaded(session, org)
    lang = choose_language(request, manifest.languages)
    mine, bundle = _opened(request, session, organisation, ref)
    async with request.form(max_files=0, max_fields=5) as form:
        code = str(form.get("code", "")).strip()[:12]
    moment = now_of(request)
    try:
        check_available(session, mine, bundle, now=moment)
        check_download_code(session, mine, bundle, code, now=moment)
        data = take(session, mine, bundle, now=moment)
    except Gone as gone:
        session.commit()
        return _page(
            request, organisation, manifest, lang, mine, bundle, step=gone.reason, status_code=410
        )
    except CodeRefused as refused:
        session.commit()  # the attempt counts, and it is on the timeline
        message = _t(lang, CODE_MESSAGES[refused.reason])
        if refused.reason == "wrong":
            message += " " + _t(lang, "Attempts left: {n}.").format(n=refused.attempts_left)
        return _page(
            request,
            organisation,
            manifest,
            lang,
            mine,
            bundle,
            step="code",
            error=message,
            status_code=422,
        )
    session.commit()
    headers: dict[str, Any] = {
        **PRIVATE,
        "content-disposition": f'attachment; filename="{bundle.filename}"',
    }
    return Response(data, media_type=bundle.media_type, headers=headers)
