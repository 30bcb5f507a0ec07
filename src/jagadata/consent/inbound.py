"""Replies by WhatsApp: the Cloud API's webhook, verified, idempotent on the message id.

    GET  /api/v1/whatsapp/webhook   Meta's verification (hub.mode, hub.verify_token, hub.challenge)
    POST /api/v1/whatsapp/webhook   messages; X-Hub-Signature-256 = HMAC-SHA256 of the raw body
                                    under JAGADATA_WHATSAPP_APP_SECRET, else 401

YA / YES (or the template's YA button) confirms the open opt-in for the number: the consent event
is recorded then (channel whatsapp, Art. 20(2)(a), 22). STOP / BERHENTI / UNSUBSCRIBE (or the
BERHENTI button) withdraws it (Art. 9, 40) and answers when processing stops. WhatsApp retries a
delivery until it gets a 2xx: a message id already handled is not handled again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.deps import now_of
from jagadata.audit.service import Actor
from jagadata.config import Settings
from jagadata.consent.models import Channel, ConsentState, Status
from jagadata.consent.optin import (
    confirm_pending,
    manifest_in_force,
    marketing_purposes,
    pending_whatsapp,
    receipt_links,
)
from jagadata.consent.optin_models import ConsentOptIn, OptInChannel, OptInStatus, WhatsAppInbound
from jagadata.consent.schemas import Evidence, Language
from jagadata.consent.service import ConsentInvalid
from jagadata.consent.state import given_purposes
from jagadata.consent.unsubscribe import PROCESSING_STOPS_WITHIN
from jagadata.consent.withdrawal import withdraw
from jagadata.db.tenancy import across_organisations, acting_for
from jagadata.i18n import gettext
from jagadata.identities import IdentityKind, InvalidIdentity, identity_hash, normalise_phone
from jagadata.logs import Pii
from jagadata.notify.models import OutboxMessage
from jagadata.notify.service import enqueue_whatsapp
from jagadata.orgs.models import Organisation
from jagadata.orgs.service import WIB

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/whatsapp", tags=["whatsapp"])

CONFIRM_PAYLOAD: Final = "JAGADATA_OPTIN_YES"
STOP_PAYLOAD: Final = "JAGADATA_OPTIN_STOP"
CONFIRM_WORDS: Final = frozenset({"YA", "IYA", "YES", "OUI", CONFIRM_PAYLOAD})
STOP_WORDS: Final = frozenset({"STOP", "BERHENTI", "UNSUBSCRIBE", "ARRET", "ARRÊT", STOP_PAYLOAD})
SIGNATURE_HEADER: Final = "x-hub-signature-256"
_WORD: Final = re.compile(r"[^\w]+")


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "consent")


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Meta's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("sha256=" + expected, header.strip())


@dataclass(frozen=True)
class InboundMessage:
    message_id: str
    sender: str
    said: str
    context_id: str | None


def intent(said: str) -> str | None:
    """'confirm', 'stop' or None for what a person wrote or pressed."""
    word = _WORD.sub(" ", said.upper()).strip()
    if said.strip() in (CONFIRM_PAYLOAD, STOP_PAYLOAD):
        word = said.strip()
    if word in CONFIRM_WORDS:
        return "confirm"
    if word in STOP_WORDS:
        return "stop"
    return None


def messages_of(document: Any) -> list[InboundMessage]:
    """The messages in a webhook delivery (statuses and other changes are left aside)."""
    found: list[InboundMessage] = []
    if not isinstance(document, dict):
        return found
    for entry in document.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            for message in value.get("messages") or []:
                if (
                    not isinstance(message, dict)
                    or not message.get("id")
                    or not message.get("from")
                ):
                    continue
                kind = message.get("type")
                said = ""
                if kind == "text":
                    said = str((message.get("text") or {}).get("body") or "")
                elif kind == "button":
                    button = message.get("button") or {}
                    said = str(button.get("payload") or button.get("text") or "")
                elif kind == "interactive":
                    reply = (message.get("interactive") or {}).get("button_reply") or {}
                    said = str(reply.get("id") or reply.get("title") or "")
                context = (message.get("context") or {}).get("id")
                found.append(
                    InboundMessage(
                        message_id=str(message["id"])[:200],
                        sender=str(message["from"]),
                        said=said[:200],
                        context_id=str(context) if context else None,
                    )
                )
    return found


def handle(
    *, sessions: sessionmaker[Session], settings: Settings, message: InboundMessage, now: datetime
) -> str:
    """Handle one message once (its id is stored in the same transaction); the outcome."""
    wanted = intent(message.said)
    with sessions() as session:
        if session.get(WhatsAppInbound, message.message_id) is not None:
            return "duplicate"
        try:
            phone = normalise_phone("+" + message.sender.lstrip("+"))
        except InvalidIdentity:
            wanted = None
            phone = ""
        outcome = "ignored"
        try:
            session.add(
                WhatsAppInbound(message_id=message.message_id, received_at=now, outcome="ignored")
            )
            session.flush()
            if wanted == "confirm":
                outcome = _confirm(session, settings, phone, message, now)
            elif wanted == "stop":
                outcome = _stop(session, phone, message, now)
            session.get_one(WhatsAppInbound, message.message_id).outcome = outcome
            session.commit()
        except IntegrityError:
            session.rollback()
            return "duplicate"
        except BaseException:
            session.rollback()
            raise
    return outcome


def _outbox_of(session: Session, context_id: str | None) -> OutboxMessage | None:
    if not context_id:
        return None
    return session.scalars(
        select(OutboxMessage).where(OutboxMessage.provider_reference == context_id).limit(1)
    ).one_or_none()


def _confirm(
    session: Session, settings: Settings, phone: str, message: InboundMessage, now: datetime
) -> str:
    subject_ref = identity_hash(IdentityKind.PHONE, phone)
    replied_to = _outbox_of(session, message.context_id)
    optin = pending_whatsapp(
        session=session,
        subject_ref=subject_ref,
        now=now,
        outbox_message_id=replied_to.id if replied_to else None,
    )
    if optin is None:
        enqueue_whatsapp(
            session=session,
            organisation_id=None,
            to=phone,
            text=_t(
                "id",
                "We found no open request for your consent from this number, so nothing was "
                "recorded. Ask the organisation to send a new one.",
            ),
        )
        return "no_request"
    organisation = session.get_one(Organisation, optin.organisation_id)
    lang = optin.language
    with acting_for(session, organisation.id):
        try:
            with session.begin_nested():
                events = confirm_pending(
                    session=session,
                    organisation=organisation,
                    optin=optin,
                    ip=None,
                    user_agent=None,
                    now=now,
                    reference=f"opt-in {optin.id} confirmed by WhatsApp reply",
                    settings=settings,
                )
        except ConsentInvalid:
            optin.status = OptInStatus.CANCELLED.value
            text = _t(
                lang,
                "The terms of this request changed before you answered, so nothing was "
                "recorded. Ask the organisation to send a new request.",
            )
            enqueue_whatsapp(session=session, organisation_id=organisation.id, to=phone, text=text)
            return "terms_changed"
        _number, manifest = manifest_in_force(session=session, organisation=organisation, now=now)
        names = ", ".join(
            p.name.get(lang) for p in manifest.purposes if p.id in set(optin.purposes)
        )
        text = _t(
            lang,
            "Thank you: your consent to {organisation} is recorded ({purposes}). Your signed "
            "receipt: {receipts}\nTo withdraw it at any time, reply BERHENTI.",
        ).format(
            organisation=manifest.organisation.display_name,
            purposes=names,
            receipts=" ".join(receipt_links(settings.base_url, events)),
        )
        enqueue_whatsapp(session=session, organisation_id=organisation.id, to=phone, text=text)
    return "confirmed"


def _stop(session: Session, phone: str, message: InboundMessage, now: datetime) -> str:
    subject_ref = identity_hash(IdentityKind.PHONE, phone)
    replied_to = _outbox_of(session, message.context_id)
    with across_organisations(session):
        if replied_to is not None and replied_to.organisation_id is not None:
            organisation_ids = [replied_to.organisation_id]
        else:
            given = select(ConsentState.organisation_id).where(
                ConsentState.subject_ref == subject_ref, ConsentState.status == Status.GIVEN.value
            )
            pending = select(ConsentOptIn.organisation_id).where(
                ConsentOptIn.subject_ref == subject_ref,
                ConsentOptIn.status == OptInStatus.PENDING.value,
            )
            organisation_ids = sorted(set(session.scalars(given)) | set(session.scalars(pending)))
        languages = [
            row
            for row in session.scalars(
                select(ConsentOptIn.language)
                .where(ConsentOptIn.subject_ref == subject_ref)
                .order_by(ConsentOptIn.created_at.desc())
                .limit(1)
            )
        ]
    lang: Language = languages[0] if languages and languages[0] in ("id", "en", "fr") else "id"  # type: ignore[assignment]
    withdrawn: list[str] = []
    for organisation_id in organisation_ids:
        organisation = session.get_one(Organisation, organisation_id)
        with acting_for(session, organisation_id):
            for optin in session.scalars(
                select(ConsentOptIn).where(
                    ConsentOptIn.subject_ref == subject_ref,
                    ConsentOptIn.status == OptInStatus.PENDING.value,
                )
            ):
                optin.status = OptInStatus.CANCELLED.value
            try:
                _number, manifest = manifest_in_force(
                    session=session, organisation=organisation, now=now
                )
            except LookupError:
                continue
            offered = {p.id for p in marketing_purposes(manifest, OptInChannel.WHATSAPP)}
            chosen = [
                p
                for p in given_purposes(
                    session=session, organisation_id=organisation_id, subject_ref=subject_ref
                )
                if p in offered
            ]
            if chosen:
                withdraw(
                    session=session,
                    organisation_id=organisation_id,
                    subject_ref=subject_ref,
                    actor=Actor.data_subject(subject_ref),
                    purposes=chosen,
                    language=lang,
                    channel=Channel.WHATSAPP,
                    evidence=Evidence(reference="WhatsApp reply to stop"),
                    now=now,
                )
                withdrawn.append(manifest.organisation.display_name)
    stops_by = (now + PROCESSING_STOPS_WITHIN).astimezone(WIB).strftime("%d-%m-%Y %H:%M")
    if withdrawn:
        text = _t(
            lang,
            "Your consent is withdrawn ({organisations}). Processing for it stops within "
            "3 x 24 hours, by {stops_by} WIB (UU PDP Art. 9, 40). You will get no more "
            "marketing messages.",
        ).format(organisations=", ".join(withdrawn), stops_by=stops_by)
    else:
        text = _t(
            lang,
            "You have no consent in effect for marketing by WhatsApp from this number; nothing "
            "more will be sent on it.",
        )
    enqueue_whatsapp(session=session, organisation_id=None, to=phone, text=text)
    return "withdrawn" if withdrawn else "nothing_to_withdraw"


@router.get("/webhook", include_in_schema=False)
def verify_subscription(request: Request) -> Response:
    """Meta's check when the webhook is set up: echo hub.challenge for the right verify token."""
    settings: Settings = request.app.state.settings
    params = request.query_params
    expected = settings.whatsapp_verify_token
    given = params.get("hub.verify_token") or ""
    if (
        params.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(given.encode(), expected.encode())
    ):
        return PlainTextResponse(params.get("hub.challenge") or "")
    return JSONResponse(
        {
            "detail": "Verification refused: hub.mode must be subscribe and hub.verify_token must "
            "match JAGADATA_WHATSAPP_VERIFY_TOKEN."
        },
        status_code=403,
    )


@router.post("/webhook", include_in_schema=False)
async def receive(request: Request) -> Response:
    """Messages from WhatsApp, each handled once; 401 without a valid signature."""
    settings: Settings = request.app.state.settings
    body = await request.body()
    secret = settings.whatsapp_app_secret
    if not secret:
        return JSONResponse(
            {"detail": "WhatsApp replies are not accepted: set JAGADATA_WHATSAPP_APP_SECRET."},
            status_code=503,
        )
    if not signature_valid(secret, body, request.headers.get(SIGNATURE_HEADER)):
        return JSONResponse(
            {
                "detail": "The X-Hub-Signature-256 header does not match the body; nothing was "
                "handled."
            },
            status_code=401,
        )
    try:
        document = json.loads(body)
    except ValueError:
        return JSONResponse({"detail": "The body is not JSON."}, status_code=400)
    now = now_of(request)
    outcomes: list[str] = []
    for message in messages_of(document):
        outcome = await _in_thread(request, settings, message, now)
        log.info("WhatsApp message %s: %s", Pii(message.message_id), outcome)
        outcomes.append(outcome)
    return JSONResponse({"handled": outcomes})


async def _in_thread(
    request: Request, settings: Settings, message: InboundMessage, now: datetime
) -> str:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(
        handle,
        sessions=request.app.state.sessions,
        settings=settings,
        message=message,
        now=now,
    )
