"""Signed webhooks to a local receiver that checks the signature the way the docs tell
customers to: the same delivery id on every attempt, a fresh valid signature each time."""

from __future__ import annotations

import json
import time

import pytest
from notify_servers import WebhookReceiver
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from jagadata.config import Settings
from jagadata.db import atomic
from jagadata.jobs import DEFAULT_LEASE, JobQueue
from jagadata.notify.channels.webhook import sign, verify_signature, webhook_body
from jagadata.notify.models import OutboxMessage, OutboxStatus
from jagadata.notify.service import deliver, enqueue_webhook


def _only_message(sessions: sessionmaker[Session]) -> OutboxMessage:
    with sessions() as session:
        return session.scalars(select(OutboxMessage)).one()


PAYLOAD = {"request": {"id": 41, "kind": "access", "due": "2026-12-01"}, "note": "Hak akses ✓"}


def test_a_delivery_carries_event_id_timestamp_and_a_valid_signature(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    webhook_receiver: WebhookReceiver,
    webhook_secret: str,
    organisation_id: int,
) -> None:
    with atomic(session):
        queued = enqueue_webhook(
            session=session,
            organisation_id=organisation_id,
            url=webhook_receiver.url,
            event="request.received",
            payload=PAYLOAD,
            secret=webhook_secret,
        )
    [delivery] = webhook_receiver.deliveries
    assert delivery.signature_valid
    assert delivery.path == "/hooks/jagadata"
    assert delivery.headers["x-jagadata-event"] == "request.received"
    assert delivery.headers["x-jagadata-delivery"] == queued.message_id
    assert delivery.headers["content-type"].startswith("application/json")
    assert delivery.payload == PAYLOAD
    assert abs(int(delivery.headers["x-jagadata-timestamp"]) - time.time()) < 300
    stored = _only_message(sessions)
    assert stored.status == OutboxStatus.SENT
    assert stored.provider_reference == "HTTP 200"
    raw_payload = session.execute(text("SELECT payload FROM outbox_message")).scalar_one()
    assert webhook_secret not in raw_payload and "request.received" not in raw_payload


def test_a_failing_receiver_gets_the_same_delivery_again_with_a_fresh_signature(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    outbox_settings: Settings,
    webhook_receiver: WebhookReceiver,
    webhook_secret: str,
) -> None:
    webhook_receiver.statuses.extend([500, 404])
    with atomic(session):
        queued = enqueue_webhook(
            session=session,
            organisation_id=None,
            url=webhook_receiver.url,
            event="breach.notified",
            payload=PAYLOAD,
            secret=webhook_secret,
        )
    for expected_error in ("HTTP 500", "HTTP 404"):
        stored = _only_message(sessions)
        assert stored.status == OutboxStatus.FAILED
        assert stored.last_error == f"webhook answered {expected_error}"
        deliver(
            sessions=sessions,
            settings=outbox_settings,
            message_id=queued.id,
            lease=DEFAULT_LEASE,
            now=stored.next_attempt_at,
        )
    assert _only_message(sessions).status == OutboxStatus.SENT
    assert len(webhook_receiver.deliveries) == 3
    assert {d.headers["x-jagadata-delivery"] for d in webhook_receiver.deliveries} == {
        queued.message_id
    }
    assert all(d.signature_valid for d in webhook_receiver.deliveries)
    assert len({d.body for d in webhook_receiver.deliveries}) == 1


def test_an_unreachable_receiver_is_retried(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    webhook_receiver: WebhookReceiver,
    webhook_secret: str,
) -> None:
    url = webhook_receiver.url
    webhook_receiver.stop()
    with atomic(session):
        enqueue_webhook(
            session=session,
            organisation_id=None,
            url=url,
            event="consent.withdrawn",
            payload={},
            secret=webhook_secret,
        )
    stored = _only_message(sessions)
    assert stored.status == OutboxStatus.FAILED
    assert stored.last_error == "webhook ConnectError"


def test_verify_signature_accepts_only_the_exact_body_secret_and_a_recent_time() -> None:
    secret = "s3cret-shared-with-the-receiver"
    body = webhook_body(PAYLOAD)
    now = int(time.time())
    signature = sign(secret=secret, timestamp=now, body=body)
    assert signature.startswith("sha256=") and len(signature) == len("sha256=") + 64
    assert verify_signature(secret=secret, body=body, timestamp=str(now), signature=signature)
    assert not verify_signature(
        secret=secret, body=body + b" ", timestamp=str(now), signature=signature
    )
    assert not verify_signature(
        secret="another", body=body, timestamp=str(now), signature=signature
    )
    assert not verify_signature(
        secret=secret, body=body, timestamp=str(now + 1), signature=signature
    )
    stale = sign(secret=secret, timestamp=now - 301, body=body)
    assert not verify_signature(secret=secret, body=body, timestamp=str(now - 301), signature=stale)
    assert not verify_signature(secret=secret, body=body, timestamp="soon", signature=signature)


def test_the_body_is_compact_sorted_utf8_json() -> None:
    assert (
        webhook_body({"b": 1, "a": "é"})
        == json.dumps({"a": "é", "b": 1}, ensure_ascii=False, separators=(",", ":")).encode()
    )


@pytest.mark.parametrize(
    ("url", "secret"),
    [("ftp://example.invalid/x", "s"), ("https:///nohost", "s"), ("https://h.invalid/", "")],
)
def test_a_webhook_without_a_usable_url_or_secret_is_refused(
    session: Session, immediate_queue: JobQueue, url: str, secret: str
) -> None:
    with pytest.raises(ValueError, match=r"URL|secret"):
        enqueue_webhook(
            session=session, organisation_id=None, url=url, event="x", payload={}, secret=secret
        )
