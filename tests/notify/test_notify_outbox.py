"""The outbox's life cycle: claims, the back-off schedule, dead letters and their retry, and the
reconciler finding messages whose nudge was lost or whose worker died."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import pytest
from notify_servers import WebhookReceiver
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from jagadata.config import Settings
from jagadata.db import atomic, utcnow
from jagadata.db.tenancy import (
    OrganisationMismatch,
    TenantScopeMissing,
    across_organisations,
    scope,
)
from jagadata.jobs import JobQueue, install_queue, make_queue, reconcile
from jagadata.notify.models import OutboxMessage, OutboxStatus
from jagadata.notify.service import (
    JITTER,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    NotADeadLetter,
    claim,
    deliver,
    enqueue_webhook,
    list_dead_letters,
    retry_dead_letter,
    retry_delay,
)

LEASE = timedelta(minutes=5)


def _webhook(session: Session, receiver: WebhookReceiver, organisation_id: int | None) -> int:
    with atomic(session):
        message = enqueue_webhook(
            session=session,
            organisation_id=organisation_id,
            url=receiver.url,
            event="request.overdue",
            payload={"request": 7},
            secret=receiver.secret,
        )
    return message.id


def _get(sessions: sessionmaker[Session], message_id: int) -> OutboxMessage:
    with sessions() as session:
        return session.get_one(OutboxMessage, message_id)


def test_the_back_off_grows_from_a_minute_to_half_a_day_then_the_message_is_dead(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    outbox_settings: Settings,
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.statuses.extend([503] * MAX_ATTEMPTS)
    message_id = _webhook(session, webhook_receiver, None)
    rng = random.Random(5)
    waits: list[timedelta] = []
    stored = _get(sessions, message_id)
    attempted_at = stored.created_at
    while stored.status == OutboxStatus.FAILED:
        waits.append(stored.next_attempt_at - attempted_at)
        attempted_at = stored.next_attempt_at
        outcome = deliver(
            sessions=sessions,
            settings=outbox_settings,
            message_id=message_id,
            lease=LEASE,
            now=attempted_at,
            rng=rng,
        )
        assert outcome.claimed
        stored = _get(sessions, message_id)
        if stored.status == OutboxStatus.FAILED:
            assert outcome.retry_at == stored.next_attempt_at
    assert stored.status == OutboxStatus.DEAD
    assert stored.attempts == MAX_ATTEMPTS == len(webhook_receiver.deliveries)
    assert len(waits) == len(RETRY_DELAYS)
    slack = timedelta(seconds=30)  # the first attempt runs a moment after the row was written
    for waited, base in zip(waits, RETRY_DELAYS, strict=True):
        assert base * (1 - JITTER) <= waited <= base * (1 + JITTER) + slack
    assert stored.last_error == "webhook answered HTTP 503"


def test_jitter_spreads_retries_but_keeps_each_within_its_band() -> None:
    rng = random.Random(11)
    for attempt, base in enumerate(RETRY_DELAYS, start=1):
        delays = {retry_delay(attempt, rng=rng) for _ in range(20)}
        assert len(delays) > 1
        assert all(d is not None and base * 0.8 <= d <= base * 1.2 for d in delays)
    assert retry_delay(MAX_ATTEMPTS) is None


def test_a_claim_is_exclusive_until_its_lease_runs_out(
    session: Session,
    sessions: sessionmaker[Session],
    parked_queue: JobQueue,
    webhook_receiver: WebhookReceiver,
) -> None:
    message_id = _webhook(session, webhook_receiver, None)
    assert parked_queue.pending_count() == 1
    now = utcnow()
    with sessions() as first, sessions() as second:
        assert claim(session=first, message_id=message_id, lease=LEASE, now=now) == 1
        assert claim(session=second, message_id=message_id, lease=LEASE, now=now) is None
        later = now + LEASE - timedelta(seconds=1)
        assert claim(session=second, message_id=message_id, lease=LEASE, now=later) is None
        expired = now + LEASE + timedelta(seconds=1)
        assert claim(session=second, message_id=message_id, lease=LEASE, now=expired) == 2


def test_dead_letters_are_listed_per_organisation_and_can_be_retried_by_it(
    session: Session,
    sessions: sessionmaker[Session],
    immediate_queue: JobQueue,
    webhook_receiver: WebhookReceiver,
    make_organisation: Callable[[], int],
) -> None:
    ours, theirs = make_organisation(), make_organisation()
    our_ids = [_webhook(session, webhook_receiver, ours) for _ in range(2)]
    their_id = _webhook(session, webhook_receiver, theirs)
    with sessions() as s:
        s.execute(
            update(OutboxMessage).values(
                status=OutboxStatus.DEAD.value, attempts=MAX_ATTEMPTS, last_error="HTTP 410"
            )
        )
        s.commit()
    assert [m.id for m in list_dead_letters(session=session, organisation_id=ours)] == sorted(
        our_ids, reverse=True
    )
    assert [m.id for m in list_dead_letters(session=session, organisation_id=theirs)] == [their_id]
    with pytest.raises(TenantScopeMissing):
        list_dead_letters(session=session, organisation_id=None)
    with across_organisations(session):
        assert list_dead_letters(session=session, organisation_id=None) == []
    with sessions() as bound:
        scope(bound, ours)
        with pytest.raises(OrganisationMismatch):
            list_dead_letters(session=bound, organisation_id=theirs)
        with pytest.raises(OrganisationMismatch):
            retry_dead_letter(session=bound, organisation_id=theirs, message_id=their_id)
        with pytest.raises(OrganisationMismatch):
            _webhook(bound, webhook_receiver, theirs)

    with pytest.raises(NotADeadLetter):
        retry_dead_letter(session=session, organisation_id=ours, message_id=their_id)
    session.rollback()
    delivered_before = len(webhook_receiver.deliveries)
    with atomic(session):
        retried = retry_dead_letter(session=session, organisation_id=ours, message_id=our_ids[0])
        assert retried.status == OutboxStatus.PENDING and retried.attempts == 0
        assert len(webhook_receiver.deliveries) == delivered_before, "not before the commit"
    after = _get(sessions, our_ids[0])
    assert after.status == OutboxStatus.SENT and after.attempts == 1
    assert len(webhook_receiver.deliveries) == delivered_before + 1
    with pytest.raises(NotADeadLetter):
        retry_dead_letter(session=session, organisation_id=ours, message_id=our_ids[0])


def test_the_reconciler_delivers_a_message_whose_nudge_was_lost(
    session: Session,
    sessions: sessionmaker[Session],
    outbox_settings: Settings,
    webhook_receiver: WebhookReceiver,
) -> None:
    broken = outbox_settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    unreachable = make_queue(broken)
    previous = install_queue(unreachable)
    try:
        message_id = _webhook(session, webhook_receiver, None)  # the nudge cannot be sent
    finally:
        install_queue(previous)
        unreachable.close()
    assert _get(sessions, message_id).status == OutboxStatus.PENDING

    queue = make_queue(outbox_settings, immediate=True)
    try:
        assert reconcile(sessions=sessions, queue=queue)["notify.deliver"] == 0, (
            "just written: its own nudge may still be on its way"
        )
        assert webhook_receiver.deliveries == []
        later = utcnow() + timedelta(minutes=3)
        assert reconcile(sessions=sessions, queue=queue, now=later)["notify.deliver"] == 1
    finally:
        queue.close()
    assert _get(sessions, message_id).status == OutboxStatus.SENT
    [delivery] = webhook_receiver.deliveries
    assert delivery.signature_valid


def test_the_reconciler_takes_over_a_message_whose_worker_died_mid_send(
    session: Session,
    sessions: sessionmaker[Session],
    parked_queue: JobQueue,
    outbox_settings: Settings,
    webhook_receiver: WebhookReceiver,
) -> None:
    message_id = _webhook(session, webhook_receiver, None)
    claimed_at = utcnow()
    with sessions() as s:  # a worker claims it, and is killed before it can send
        assert claim(session=s, message_id=message_id, lease=LEASE, now=claimed_at) == 1
    queue = make_queue(outbox_settings, immediate=True)
    try:
        while_leased = claimed_at + LEASE - timedelta(seconds=1)
        assert reconcile(sessions=sessions, queue=queue, now=while_leased)["notify.deliver"] == 0
        with sessions() as s:  # time passes: the dead worker's lease runs out
            s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(lease_until=utcnow() - timedelta(seconds=1))
            )
            s.commit()
        assert reconcile(sessions=sessions, queue=queue)["notify.deliver"] == 1
    finally:
        queue.close()
    after = _get(sessions, message_id)
    assert after.status == OutboxStatus.SENT and after.attempts == 2
    assert len(webhook_receiver.deliveries) == 1


def test_a_nudge_for_a_message_that_does_not_exist_does_nothing(
    sessions: sessionmaker[Session], outbox_settings: Settings
) -> None:
    """A nudge from a rolled-back savepoint names a row that never was: the job just ends."""
    outcome = deliver(sessions=sessions, settings=outbox_settings, message_id=987654, lease=LEASE)
    assert not outcome.claimed and outcome.retry_at is None
