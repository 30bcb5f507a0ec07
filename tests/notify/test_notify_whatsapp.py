"""WhatsApp through the outbox to a local Cloud API: the request it expects, the message id it
answers kept as the provider reference, and its errors sorted into retry or dead letter."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from whatsapp_cloud_fake import (
    NOT_ALLOWED,
    SERVICE_UNAVAILABLE,
    THROTTLED,
    GraphError,
    WhatsAppCloudFake,
)

from jagadata.config import Settings
from jagadata.db import atomic
from jagadata.identities import InvalidIdentity
from jagadata.jobs import JobQueue
from jagadata.notify.channels import PermanentFailure, TemporaryFailure
from jagadata.notify.channels.whatsapp import send_whatsapp, text_message
from jagadata.notify.models import OutboxMessage, OutboxStatus
from jagadata.notify.service import enqueue_whatsapp, enqueue_whatsapp_template


def _mobile(faker: Faker) -> str:
    return faker.numerify("+62812########")


def _only_message(sessions: sessionmaker[Session]) -> OutboxMessage:
    with sessions() as session:
        return session.scalars(select(OutboxMessage)).one()


def test_a_text_message_reaches_the_cloud_api_and_keeps_its_wamid(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    whatsapp_cloud: WhatsAppCloudFake,
    faker: Faker,
    organisation_id: int,
) -> None:
    phone = _mobile(faker)
    local = "0" + phone.removeprefix("+62")
    text = f"Halo {faker.first_name()}, permintaan Anda sudah kami proses."
    with atomic(session):
        enqueue_whatsapp(session=session, organisation_id=organisation_id, to=local, text=text)
    [accepted] = whatsapp_cloud.accepted
    assert accepted.body["messaging_product"] == "whatsapp"
    assert accepted.body["to"] == phone.removeprefix("+")
    assert accepted.body["type"] == "text"
    assert accepted.body["text"]["body"] == text
    stored = _only_message(sessions)
    assert stored.status == OutboxStatus.SENT
    assert stored.provider_reference == accepted.wamid
    assert stored.recipient == phone, "stored normalised to E.164"
    assert stored.organisation_id == organisation_id


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NOT_ALLOWED, OutboxStatus.DEAD),
        (GraphError(400, 100, "(#100) Invalid parameter"), OutboxStatus.DEAD),
        (GraphError(401, 190, "Invalid OAuth access token"), OutboxStatus.DEAD),
        (THROTTLED, OutboxStatus.FAILED),
        (GraphError(400, 131056, "(#131056) Pair rate limit hit"), OutboxStatus.FAILED),
        (SERVICE_UNAVAILABLE, OutboxStatus.FAILED),
        (GraphError(500, 1, "An unknown error occurred"), OutboxStatus.FAILED),
    ],
    ids=["not-allowed", "invalid", "token", "429", "pair-limit", "503", "500"],
)
def test_errors_are_permanent_unless_the_api_asks_to_wait_or_fails_itself(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    whatsapp_cloud: WhatsAppCloudFake,
    faker: Faker,
    error: GraphError,
    status: OutboxStatus,
) -> None:
    whatsapp_cloud.scripted.append(error)
    phone = _mobile(faker)
    with atomic(session):
        enqueue_whatsapp(session=session, organisation_id=None, to=phone, text="Halo")
    stored = _only_message(sessions)
    assert stored.status == status
    assert stored.attempts == 1
    assert stored.last_error is not None
    assert f"WhatsApp {error.status} (code {error.code}" in stored.last_error
    assert phone.removeprefix("+") not in stored.last_error
    assert whatsapp_cloud.accepted == []


def test_a_wrong_token_is_refused_by_the_api(
    outbox_settings: Settings, whatsapp_cloud: WhatsAppCloudFake
) -> None:
    wrong = outbox_settings.model_copy(update={"whatsapp_token": "not-the-token"})
    with pytest.raises(PermanentFailure, match="code 190"):
        send_whatsapp(text_message(to="+6281200000000", text="x"), settings=wrong)


def test_a_slow_api_is_a_temporary_failure(
    outbox_settings: Settings, whatsapp_cloud: WhatsAppCloudFake
) -> None:
    whatsapp_cloud.delay = 1.0
    with httpx.Client(timeout=0.2) as client, pytest.raises(TemporaryFailure, match="Timeout"):
        send_whatsapp(
            text_message(to="+6281200000000", text="x"), settings=outbox_settings, client=client
        )


def test_without_a_token_nothing_is_sent_and_the_message_waits(
    outbox_settings: Settings, whatsapp_cloud: WhatsAppCloudFake
) -> None:
    unconfigured = outbox_settings.model_copy(update={"whatsapp_token": None})
    with pytest.raises(TemporaryFailure, match="JAGADATA_WHATSAPP_TOKEN"):
        send_whatsapp(text_message(to="+6281200000000", text="x"), settings=unconfigured)
    assert whatsapp_cloud.requests == 0


def test_a_template_message_goes_out_with_its_parameters(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    whatsapp_cloud: WhatsAppCloudFake,
    faker: Faker,
) -> None:
    name = faker.first_name()
    with atomic(session):
        enqueue_whatsapp_template(
            session=session,
            organisation_id=None,
            to=_mobile(faker),
            template="request_deadline_reminder",
            language="id",
            parameters=[name, "3"],
        )
    [accepted] = whatsapp_cloud.accepted
    template = accepted.body["template"]
    assert accepted.body["type"] == "template"
    assert template["name"] == "request_deadline_reminder"
    assert template["language"] == {"code": "id"}
    assert template["components"] == [
        {
            "type": "body",
            "parameters": [{"type": "text", "text": name}, {"type": "text", "text": "3"}],
        }
    ]
    assert _only_message(sessions).provider_reference == accepted.wamid


def test_a_template_message_is_understood_by_the_fake_like_the_real_api(
    whatsapp_cloud: WhatsAppCloudFake, outbox_settings: Settings
) -> None:
    template = {
        "messaging_product": "whatsapp",
        "to": "6281200000000",
        "type": "template",
        "template": {"name": "hello_world", "language": {"code": "id"}},
    }
    assert send_whatsapp(template, settings=outbox_settings).startswith("wamid.")
    template["template"] = {"name": "hello_world"}
    with pytest.raises(PermanentFailure, match="code 100"):
        send_whatsapp(template, settings=outbox_settings)


def test_a_number_that_is_not_a_phone_never_enters_the_outbox(
    session: Session, immediate_queue: JobQueue
) -> None:
    with pytest.raises(InvalidIdentity):
        enqueue_whatsapp(session=session, organisation_id=None, to="12", text="Halo")
    with pytest.raises(ValueError, match="4096"):
        enqueue_whatsapp(session=session, organisation_id=None, to="+6281200000000", text="")


def test_a_retry_after_throttling_sends_once_the_wait_is_over(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    outbox_settings: Settings,
    whatsapp_cloud: WhatsAppCloudFake,
    faker: Faker,
) -> None:
    from jagadata.notify.service import deliver

    whatsapp_cloud.scripted.append(THROTTLED)
    with atomic(session):
        queued = enqueue_whatsapp(
            session=session, organisation_id=None, to=_mobile(faker), text="x"
        )
    failed = _only_message(sessions)
    outcome = deliver(
        sessions=sessions,
        settings=outbox_settings,
        message_id=queued.id,
        lease=timedelta(minutes=1),
        now=failed.next_attempt_at,
    )
    assert outcome.status == OutboxStatus.SENT
    assert _only_message(sessions).provider_reference == whatsapp_cloud.accepted[0].wamid
