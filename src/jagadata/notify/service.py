"""The outbox's operations: put a message in it (inside the caller's transaction), deliver it
(claim, send, record), and look after dead letters.

    with atomic(session):
        request = ...                         # the change that causes the message
        enqueue_email(session=session, organisation_id=org.id, to=..., subject=..., text=...)
    # committed: the row exists and a worker has been nudged; rolled back: neither.

Delivery is at least once: a worker that dies between sending and recording it leaves the row
claimed; when the claim's lease runs out the message is sent again with the same message_id.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from jagadata.config import Settings, get_settings
from jagadata.db.base import utcnow
from jagadata.db.tenancy import OrganisationMismatch, ensure_reachable, session_organisation
from jagadata.identities import normalise_phone
from jagadata.jobs import enqueue_after_commit
from jagadata.notify.channels import DeliveryFailed, TemporaryFailure
from jagadata.notify.channels.email import (
    build_email,
    new_message_id,
    recipient_address,
    send_email,
)
from jagadata.notify.channels.webhook import send_webhook, webhook_body
from jagadata.notify.channels.whatsapp import (
    MAX_TEXT_LENGTH,
    send_whatsapp,
    template_message,
    text_message,
)
from jagadata.notify.models import Channel, OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

DELIVER_JOB: Final = "notify.deliver"
RETRY_DELAYS: Final = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
"""After the n-th failed attempt, wait RETRY_DELAYS[n-1] (± JITTER); after the last, dead."""
MAX_ATTEMPTS: Final = len(RETRY_DELAYS) + 1
JITTER: Final = 0.2
_CLAIMABLE: Final = (OutboxStatus.PENDING.value, OutboxStatus.FAILED.value)


class NotADeadLetter(Exception):
    """Only a dead message can be retried by hand; the others are still being worked on."""


# --- putting messages in the outbox --------------------------------------------------------------


def enqueue_email(
    *,
    session: Session,
    organisation_id: int | None,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    lang: str = "id",
    settings: Settings | None = None,
) -> OutboxMessage:
    """Add an email to the caller's transaction; it is sent after (and only if) that commits."""
    settings = settings or get_settings()
    payload = {"subject": subject, "text": text, "html": html, "lang": lang}
    return _add(
        session,
        organisation_id=organisation_id,
        channel=Channel.EMAIL,
        message_id=new_message_id(settings),
        recipient=recipient_address(to),
        payload=payload,
    )


def enqueue_whatsapp(
    *, session: Session, organisation_id: int | None, to: str, text: str
) -> OutboxMessage:
    """Add a WhatsApp text message (to a phone number, normalised to E.164) to the transaction."""
    if not text.strip() or len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"a WhatsApp text has 1 to {MAX_TEXT_LENGTH} characters")
    return _add(
        session,
        organisation_id=organisation_id,
        channel=Channel.WHATSAPP,
        message_id=f"wa-{uuid.uuid4().hex}",
        recipient=normalise_phone(to),
        payload={"text": text},
    )


def enqueue_whatsapp_template(
    *,
    session: Session,
    organisation_id: int | None,
    to: str,
    template: str,
    language: str,
    parameters: list[str] | None = None,
) -> OutboxMessage:
    """Add a WhatsApp template message (approved in WhatsApp Manager) to the transaction."""
    if not template or not language:
        raise ValueError("a WhatsApp template message needs the template's name and language")
    return _add(
        session,
        organisation_id=organisation_id,
        channel=Channel.WHATSAPP,
        message_id=f"wa-{uuid.uuid4().hex}",
        recipient=normalise_phone(to),
        payload={"template": template, "language": language, "parameters": parameters or []},
    )


def enqueue_webhook(
    *,
    session: Session,
    organisation_id: int | None,
    url: str,
    event: str,
    payload: Any,
    secret: str,
) -> OutboxMessage:
    """Add a signed webhook delivery of `event` with `payload` (JSON-able) to the transaction."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError("a webhook URL starts with https:// (or http://) and names a host")
    if not secret:
        raise ValueError("a webhook needs a secret to sign its deliveries")
    webhook_body(payload)
    return _add(
        session,
        organisation_id=organisation_id,
        channel=Channel.WEBHOOK,
        message_id=str(uuid.uuid4()),
        recipient=url,
        payload={"event": event, "body": payload, "secret": secret},
    )


def _add(
    session: Session,
    *,
    organisation_id: int | None,
    channel: Channel,
    message_id: str,
    recipient: str,
    payload: dict[str, Any],
) -> OutboxMessage:
    bound = session_organisation(session)
    if bound is not None and organisation_id != bound:
        raise OrganisationMismatch(
            f"a message of organisation {organisation_id} cannot be written in a session of "
            f"organisation {bound}"
        )
    now = utcnow()
    message = OutboxMessage(
        organisation_id=organisation_id,
        channel=channel.value,
        message_id=message_id,
        recipient=recipient,
        payload=payload,
        status=OutboxStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    enqueue_after_commit(session, DELIVER_JOB, message.id)
    return message


# --- delivering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one delivery attempt did; `retry_at` is set when the message waits for another try."""

    status: OutboxStatus | None
    attempt: int = 0
    retry_at: datetime | None = None

    @property
    def claimed(self) -> bool:
        return self.status is not None


NOT_CLAIMED: Final = DeliveryOutcome(status=None)


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> timedelta | None:
    """How long to wait after failed attempt number `attempt` (1-based); None: no more tries."""
    if attempt >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS[attempt - 1]
    return base * (rng or random).uniform(1 - JITTER, 1 + JITTER)


def claim(
    *, session: Session, message_id: int, lease: timedelta, now: datetime | None = None
) -> int | None:
    """Take the row for this worker until now + lease; returns the attempt number, or None when
    it is not due, already sent or dead, or claimed by a worker whose lease still runs."""
    now = now or utcnow()
    row = OutboxMessage
    claimable = or_(
        and_(row.status.in_(_CLAIMABLE), row.next_attempt_at <= now),
        and_(row.status == OutboxStatus.SENDING.value, row.lease_until < now),
    )
    attempt = session.execute(
        update(row)
        .where(row.id == message_id, claimable)
        .values(
            status=OutboxStatus.SENDING.value, lease_until=now + lease, attempts=row.attempts + 1
        )
        .returning(row.attempts)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    session.commit()
    return attempt


def deliver(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    message_id: int,
    lease: timedelta,
    now: datetime | None = None,
    http: httpx.Client | None = None,
    rng: random.Random | None = None,
) -> DeliveryOutcome:
    """Claim, send and record one outbox message; a no-op when someone else has it or it is done."""
    with sessions() as session:
        attempt = claim(session=session, message_id=message_id, lease=lease, now=now)
        if attempt is None:
            return NOT_CLAIMED
        message = session.get_one(OutboxMessage, message_id)
        session.expunge(message)
    try:
        reference = _send(message, settings=settings, http=http)
    except DeliveryFailed as failure:
        return _record_failure(sessions, message, attempt, failure, now=now, rng=rng)
    except Exception as error:
        logger.exception("outbox message %d: unexpected error while sending", message_id)
        unexpected = TemporaryFailure(f"internal error {error.__class__.__name__}")
        return _record_failure(sessions, message, attempt, unexpected, now=now, rng=rng)
    with sessions() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status != OutboxStatus.SENT.value)
            .values(
                status=OutboxStatus.SENT.value,
                sent_at=now or utcnow(),
                lease_until=None,
                last_error=None,
                provider_reference=reference,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return DeliveryOutcome(status=OutboxStatus.SENT, attempt=attempt)


def _send(message: OutboxMessage, *, settings: Settings, http: httpx.Client | None) -> str | None:
    payload: dict[str, Any] = message.payload
    if message.channel == Channel.EMAIL:
        email = build_email(
            settings=settings,
            message_id=message.message_id,
            to=message.recipient,
            subject=payload["subject"],
            text=payload["text"],
            html=payload.get("html"),
            lang=payload.get("lang", "id"),
            date=message.created_at,
            headers=payload.get("headers"),
        )
        send_email(email, settings=settings)
        return None
    if message.channel == Channel.WHATSAPP:
        if "template" in payload:
            body = template_message(
                to=message.recipient,
                template=payload["template"],
                language=payload["language"],
                parameters=payload["parameters"],
            )
        else:
            body = text_message(to=message.recipient, text=payload["text"])
        return send_whatsapp(body, settings=settings, client=http)
    if message.channel == Channel.WEBHOOK:
        return send_webhook(
            url=message.recipient,
            event=payload["event"],
            delivery_id=message.message_id,
            body=webhook_body(payload["body"]),
            secret=payload["secret"],
            client=http,
        )
    raise TemporaryFailure(f"unknown channel {message.channel!r}")


def _record_failure(
    sessions: sessionmaker[Session],
    message: OutboxMessage,
    attempt: int,
    failure: DeliveryFailed,
    *,
    now: datetime | None,
    rng: random.Random | None,
) -> DeliveryOutcome:
    now = now or utcnow()
    delay = None if failure.permanent else retry_delay(attempt, rng=rng)
    status = OutboxStatus.DEAD if delay is None else OutboxStatus.FAILED
    retry_at = None if delay is None else now + delay
    with sessions() as session:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message.id,
                OutboxMessage.status == OutboxStatus.SENDING.value,
                OutboxMessage.attempts == attempt,
            )
            .values(
                status=status.value,
                lease_until=None,
                next_attempt_at=retry_at or now,
                last_error=failure.reason,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
    logger.warning(
        "outbox message %d (%s) attempt %d failed, now %s: %s",
        message.id,
        message.channel,
        attempt,
        status.value,
        failure.reason,
    )
    return DeliveryOutcome(status=status, attempt=attempt, retry_at=retry_at)


# --- stuck work and dead letters -----------------------------------------------------------------


def stuck_message_ids(
    *, session: Session, now: datetime, due_before: datetime, limit: int
) -> list[int]:
    """Messages due for a while with nobody on them, or claimed by a worker whose lease ran out."""
    row = OutboxMessage
    return list(
        session.scalars(
            select(row.id)
            .where(
                or_(
                    and_(row.status.in_(_CLAIMABLE), row.next_attempt_at <= due_before),
                    and_(row.status == OutboxStatus.SENDING.value, row.lease_until < now),
                )
            )
            .order_by(row.next_attempt_at, row.id)
            .limit(limit)
        )
    )


def list_dead_letters(
    *, session: Session, organisation_id: int | None, limit: int = 100, offset: int = 0
) -> list[OutboxMessage]:
    """The organisation's dead messages, newest first (None: messages of no organisation, which
    only a cross-organisation session may read)."""
    ensure_reachable(session, organisation_id)
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.DEAD.value,
                _of_organisation(organisation_id),
            )
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def retry_dead_letter(
    *, session: Session, organisation_id: int | None, message_id: int
) -> OutboxMessage:
    """Give a dead message a fresh series of attempts, starting as soon as the caller commits."""
    ensure_reachable(session, organisation_id)
    message = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.id == message_id, _of_organisation(organisation_id)
        )
    ).one_or_none()
    if message is None or message.status != OutboxStatus.DEAD.value:
        raise NotADeadLetter(
            f"outbox message {message_id} is not a dead letter of this organisation"
        )
    message.status = OutboxStatus.PENDING.value
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.lease_until = None
    session.flush()
    enqueue_after_commit(session, DELIVER_JOB, message.id)
    return message


def _of_organisation(organisation_id: int | None) -> Any:
    if organisation_id is None:
        return OutboxMessage.organisation_id.is_(None)
    return OutboxMessage.organisation_id == organisation_id
