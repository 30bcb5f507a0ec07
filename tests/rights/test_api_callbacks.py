"""Status callbacks of API requests, delivered to a local receiver that checks each signature
with the secret the API hands out: one signed OpenDSR callback per status change and address,
none for a step that rolled back — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import test_api_helpers as helpers
from accounts_helpers import Clock
from faker import Faker
from fastapi.testclient import TestClient
from notify_servers import WebhookReceiver
from sqlalchemy import func, select
from test_api_helpers import STAFF, Keys, Staff, bearer, dsr

from jagadata.notify.models import OutboxMessage
from jagadata.rights import service

URL = "/api/v1/requests"
api_app, fake, keys, staff = helpers.api_app, helpers.fake, helpers.keys, helpers.staff


@pytest.fixture
def receiver(web: TestClient, keys: Keys) -> Iterator[WebhookReceiver]:
    answer = web.get(f"{URL}/callback-secret", headers=bearer(keys.writer))
    assert answer.status_code == 200
    secret = answer.json()["secret"]
    assert secret.startswith("whsec_")
    server = WebhookReceiver(secret).start()
    yield server
    server.stop()


def _webhooks(staff: Staff) -> int:
    with staff.session_for() as session:
        count = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.channel == "webhook")
        )
        return int(count or 0)


def test_each_status_change_reaches_every_address_signed(
    web: TestClient, keys: Keys, fake: Faker, clock: Clock, staff: Staff, receiver: WebhookReceiver
) -> None:
    second = receiver.url + "?copy=2"
    body = dsr(fake, clock.now, kind="access", callbacks=[receiver.url, second])
    filed = web.post(URL, json=body, headers=bearer(keys.writer))
    assert filed.status_code == 201
    assert filed.json()["status_callback_urls"] == [receiver.url, second]
    assert receiver.deliveries == []  # filed, a code sent: the status has not changed yet
    request_id = str(body["subject_request_id"])
    with staff.session_for() as session:
        request = staff.find(session, request_id)
        service.verify_manually(session, request, actor=STAFF, reason="KTP dilihat langsung")
        session.commit()
        service.start(session, request, actor=STAFF)
        session.commit()
        service.refuse(session, request, actor=STAFF, ground="33(b)", explanation="Data orang lain")
        session.commit()
        due = request.due_at
    assert all(d.signature_valid for d in receiver.deliveries)
    assert [d.path for d in receiver.deliveries] == [
        "/hooks/jagadata",
        "/hooks/jagadata?copy=2",
    ] * 3
    payloads = [d.payload for d in receiver.deliveries]
    assert [p["request_status"] for p in payloads[::2]] == ["pending", "in_progress", "completed"]
    assert [p["extensions"]["jagadata"]["status"] for p in payloads[::2]] == [
        "verified",
        "in_progress",
        "refused",
    ]
    for payload, delivery in zip(payloads, receiver.deliveries, strict=True):
        assert payload["controller_id"] == "la-gelato-academy"
        assert payload["subject_request_id"] == request_id
        assert payload["status_callback_url"] == (
            receiver.url if delivery.path == "/hooks/jagadata" else second
        )
        assert payload["expected_completion_time"] == (due.isoformat() if due else None)
        assert payload["results_url"] is None
        assert delivery.headers["x-jagadata-event"] == "request.status"
    assert len({d.headers["x-jagadata-delivery"] for d in receiver.deliveries}) == 6


def test_a_step_rolled_back_sends_nothing(
    web: TestClient, keys: Keys, fake: Faker, clock: Clock, staff: Staff, receiver: WebhookReceiver
) -> None:
    body = dsr(fake, clock.now, kind="erasure", callbacks=[receiver.url], identity_verified=True)
    assert web.post(URL, json=body, headers=bearer(keys.writer)).status_code == 201
    [verified] = receiver.deliveries  # verified at filing: the one status change so far
    assert verified.signature_valid and verified.payload["extensions"]["jagadata"]["status"] == (
        "verified"
    )
    before = _webhooks(staff)
    with staff.session_for() as session:
        request = staff.find(session, str(body["subject_request_id"]))
        service.start(session, request, actor=STAFF)
        assert _webhooks(staff) == before  # not visible outside the step's transaction
        session.rollback()
    assert _webhooks(staff) == before
    assert len(receiver.deliveries) == 1
    withdrawn = web.delete(f"{URL}/{body['subject_request_id']}", headers=bearer(keys.writer))
    assert withdrawn.status_code == 200
    assert [d.payload["request_status"] for d in receiver.deliveries] == ["pending", "cancelled"]
    assert all(d.signature_valid for d in receiver.deliveries)


def test_requests_without_addresses_send_no_callbacks(
    web: TestClient, keys: Keys, fake: Faker, clock: Clock, staff: Staff
) -> None:
    body = dsr(fake, clock.now, identity_verified=True)
    assert web.post(URL, json=body, headers=bearer(keys.writer)).status_code == 201
    assert web.delete(f"{URL}/{body['subject_request_id']}", headers=bearer(keys.writer))
    assert _webhooks(staff) == 0
