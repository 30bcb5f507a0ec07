"""Email through the outbox to a real SMTP server: written with the change that causes it,
sent after commit with a stable Message-ID, encrypted at rest, retried or dead-lettered."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from faker import Faker
from notify_servers import RecordingSmtpServer
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from jagadata.config import Settings
from jagadata.db import atomic
from jagadata.jobs import JobQueue, pending_nudges
from jagadata.notify.models import OutboxMessage, OutboxStatus
from jagadata.notify.service import JITTER, RETRY_DELAYS, deliver, enqueue_email


def _outbox(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_an_email_committed_with_its_change_reaches_the_smtp_server(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    smtp_server: RecordingSmtpServer,
    faker: Faker,
) -> None:
    to = faker.email()
    subject = f"Permintaan akses Anda telah diterima — {faker.name()} ✓"
    body = f"Halo {faker.first_name()},\nPermintaan Anda kami terima."
    html = f"<p>Halo <strong>{faker.first_name()}</strong></p>"
    with atomic(session):
        queued = enqueue_email(
            session=session,
            organisation_id=None,
            to=to,
            subject=subject,
            text=body,
            html=html,
            lang="id",
        )
        assert smtp_server.received == []

    [received] = smtp_server.received
    email = received.message
    assert received.recipients == [to]
    assert email["Message-ID"] == queued.message_id
    assert queued.message_id.startswith("<") and queued.message_id.endswith("@jagadata.test>")
    assert email["To"] == to
    assert email["From"] == "jagadata <noreply@jagadata.test>"
    assert email["Subject"] == subject
    assert email["Auto-Submitted"] == "auto-generated"
    assert email["Content-Language"] == "id"
    assert parsedate_to_datetime(str(email["Date"])) == queued.created_at.replace(microsecond=0)
    assert email.get_content_type() == "multipart/alternative"
    plain = email.get_body(preferencelist=("plain",))
    rich = email.get_body(preferencelist=("html",))
    assert plain is not None and plain.get_content().rstrip("\n") == body
    assert rich is not None and rich.get_content().rstrip("\n") == html

    [stored] = _outbox(sessions)
    assert stored.status == OutboxStatus.SENT
    assert stored.attempts == 1
    assert stored.sent_at is not None
    assert stored.last_error is None and stored.lease_until is None


def test_a_text_only_email_is_a_single_utf8_part(
    session: Session, immediate_queue: JobQueue, smtp_server: RecordingSmtpServer, faker: Faker
) -> None:
    with atomic(session):
        enqueue_email(
            session=session,
            organisation_id=None,
            to=faker.email(),
            subject="Pemberitahuan",
            text="Data Anda telah dihapus — terima kasih.",
            lang="en",
        )
    [received] = smtp_server.received
    assert received.message.get_content_type() == "text/plain"
    assert received.message.get_content_charset() == "utf-8"
    assert received.message["Content-Language"] == "en"


def test_a_rolled_back_transaction_sends_nothing(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    smtp_server: RecordingSmtpServer,
    faker: Faker,
) -> None:
    with pytest.raises(RuntimeError), atomic(session):
        enqueue_email(
            session=session, organisation_id=None, to=faker.email(), subject="x", text="y"
        )
        assert len(pending_nudges(session)) == 1
        raise RuntimeError("the change that would have caused the email failed")
    assert pending_nudges(session) == ()
    with atomic(session):
        pass  # a later commit on the same session must not revive the dropped nudge
    assert smtp_server.received == []
    assert _outbox(sessions) == []


def test_recipient_and_message_are_encrypted_at_rest(
    session: Session, immediate_queue: JobQueue, smtp_server: RecordingSmtpServer, faker: Faker
) -> None:
    to, subject, body = faker.email(), faker.sentence(), faker.paragraph()
    with atomic(session):
        enqueue_email(session=session, organisation_id=None, to=to, subject=subject, text=body)
    raw = session.execute(text("SELECT recipient, payload FROM outbox_message")).one()
    stored = f"{raw.recipient} {raw.payload}"
    for secret in (to, to.split("@")[0], subject, body):
        assert secret not in stored
    assert raw.recipient.startswith("jd1:") and raw.payload.startswith("jd1:")
    assert len(smtp_server.received) == 1


def test_a_refused_recipient_is_a_dead_letter_after_one_try_and_its_error_names_no_one(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    smtp_server: RecordingSmtpServer,
    faker: Faker,
) -> None:
    to = faker.email()
    smtp_server.behaviour.refuse[to] = f"550 5.1.1 <{to}>: Recipient address rejected"
    with atomic(session):
        enqueue_email(session=session, organisation_id=None, to=to, subject="x", text="y")
    [stored] = _outbox(sessions)
    assert stored.status == OutboxStatus.DEAD
    assert stored.attempts == 1
    assert stored.last_error is not None and "SMTP 550" in stored.last_error
    assert to not in stored.last_error and to.split("@")[0] not in stored.last_error
    assert immediate_queue.scheduled_count() == 0
    assert smtp_server.received == []


def test_a_busy_server_gets_the_same_message_again_after_the_back_off(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    outbox_settings: Settings,
    smtp_server: RecordingSmtpServer,
    faker: Faker,
) -> None:
    smtp_server.behaviour.data_replies.append("451 4.3.0 Mail server temporarily busy")
    with atomic(session):
        queued = enqueue_email(
            session=session, organisation_id=None, to=faker.email(), subject="x", text="y"
        )
    [failed] = _outbox(sessions)
    assert failed.status == OutboxStatus.FAILED
    assert failed.last_error is not None and "SMTP 451" in failed.last_error
    waited = failed.next_attempt_at - failed.created_at
    first = RETRY_DELAYS[0]
    assert first * (1 - JITTER) <= waited <= first * (1 + JITTER) + timedelta(seconds=5)
    assert immediate_queue.scheduled_count() == 1, "the retry waits in the queue's schedule"

    too_early = deliver(
        sessions=sessions,
        settings=outbox_settings,
        message_id=queued.id,
        lease=timedelta(minutes=5),
        now=failed.next_attempt_at - timedelta(seconds=1),
    )
    assert not too_early.claimed
    retried = deliver(
        sessions=sessions,
        settings=outbox_settings,
        message_id=queued.id,
        lease=timedelta(minutes=5),
        now=failed.next_attempt_at,
    )
    assert retried.status == OutboxStatus.SENT and retried.attempt == 2
    [received] = smtp_server.received
    assert received.message_id == queued.message_id


def test_an_unreachable_server_is_a_temporary_failure(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    smtp_server: RecordingSmtpServer,
    faker: Faker,
) -> None:
    smtp_server.stop()
    with atomic(session):
        enqueue_email(
            session=session, organisation_id=None, to=faker.email(), subject="x", text="y"
        )
    [stored] = _outbox(sessions)
    assert stored.status == OutboxStatus.FAILED
    assert stored.last_error is not None and stored.last_error.startswith("SMTP ")
    with sessions() as check:
        assert check.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_an_invalid_address_is_refused_before_it_enters_the_outbox(
    session: Session, immediate_queue: JobQueue
) -> None:
    with pytest.raises(ValueError, match="not an email address"):
        enqueue_email(session=session, organisation_id=None, to="nobody", subject="x", text="y")
    assert pending_nudges(session) == ()
