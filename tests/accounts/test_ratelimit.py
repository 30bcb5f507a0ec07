"""Lockout and back-off kept in the database: five failures lock for a minute, each lockout in
a row twice as long up to an hour, a success forgets it all, and keys are never stored in clear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.accounts import ratelimit
from jagadata.accounts.models import RateLimitCounter
from jagadata.db import atomic

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
POLICY = ratelimit.SIGN_IN_ACCOUNT
SCOPE = "sign_in.account"
KEY = "pengguna@example.com"


def _fail(session: Session, now: datetime, key: str = KEY) -> datetime | None:
    until = ratelimit.record_failure(session=session, scope=SCOPE, key=key, policy=POLICY, now=now)
    session.commit()
    return until


def test_five_failures_lock_for_a_minute_then_doubling_up_to_an_hour(session: Session) -> None:
    now = T0
    expected_lockouts = [1, 2, 4, 8, 16, 32, 60, 60]
    for minutes in expected_lockouts:
        results = [_fail(session, now + timedelta(seconds=i)) for i in range(POLICY.limit)]
        assert results[:-1] == [None] * (POLICY.limit - 1)
        started = now + timedelta(seconds=POLICY.limit - 1)
        assert results[-1] == started + timedelta(minutes=minutes)
        with pytest.raises(ratelimit.Limited) as limited:
            ratelimit.check(session=session, scope=SCOPE, key=KEY, now=started)
        assert limited.value.retry_after == timedelta(minutes=minutes)
        assert limited.value.retry_after_seconds == minutes * 60
        ratelimit.check(
            session=session, scope=SCOPE, key=KEY, now=started + timedelta(minutes=minutes)
        )
        now = started + timedelta(minutes=minutes)


def test_failures_while_locked_do_not_extend_the_lockout(session: Session) -> None:
    for i in range(POLICY.limit):
        until = _fail(session, T0 + timedelta(seconds=i))
    assert until is not None
    assert _fail(session, T0 + timedelta(seconds=30)) == until


def test_a_success_forgets_failures_and_back_off(session: Session) -> None:
    for i in range(POLICY.limit):
        _fail(session, T0 + timedelta(seconds=i))
    ratelimit.reset(session=session, scope=SCOPE, key=KEY)
    session.commit()
    ratelimit.check(session=session, scope=SCOPE, key=KEY, now=T0 + timedelta(seconds=10))
    for i in range(POLICY.limit - 1):
        assert _fail(session, T0 + timedelta(seconds=20 + i)) is None
    assert _fail(session, T0 + timedelta(seconds=30)) == T0 + timedelta(seconds=30, minutes=1)


def test_old_failures_stop_counting_after_the_window(session: Session) -> None:
    for i in range(POLICY.limit - 1):
        _fail(session, T0 + timedelta(seconds=i))
    assert _fail(session, T0 + POLICY.window + timedelta(seconds=1)) is None


def test_keys_are_independent_and_stored_only_as_keyed_hashes(session: Session) -> None:
    for i in range(POLICY.limit):
        _fail(session, T0 + timedelta(seconds=i))
    ratelimit.check(session=session, scope=SCOPE, key="orang-lain@example.com", now=T0)
    ratelimit.check(session=session, scope="sign_in.address", key=KEY, now=T0)
    stored = session.scalars(select(RateLimitCounter.key_hash)).all()
    assert stored == [ratelimit.key_hash(SCOPE, KEY)]
    assert all(KEY not in value for value in stored)


def test_limit_counts_events_and_backs_off(session: Session) -> None:
    policy = ratelimit.SEND_CODE

    def send(now: datetime) -> None:
        with atomic(session):
            ratelimit.limit(session=session, scope="code.sent", key="62812", policy=policy, now=now)

    for _ in range(policy.limit):
        send(T0)
    with pytest.raises(ratelimit.Limited) as first:
        send(T0 + timedelta(seconds=1))
    assert first.value.until == T0 + policy.lockout
    after = T0 + policy.lockout
    for _ in range(policy.limit):
        send(after)
    with pytest.raises(ratelimit.Limited) as second:
        send(after)
    assert second.value.until == after + policy.lockout * 2


def test_prune_removes_only_quiet_counters(session: Session) -> None:
    _fail(session, T0)
    for i in range(POLICY.limit):
        _fail(session, T0 + timedelta(days=1, seconds=i), key="baru@example.com")
    removed = ratelimit.prune(session=session, before=T0 + timedelta(hours=12))
    session.commit()
    assert removed == 1
    assert len(session.scalars(select(RateLimitCounter)).all()) == 1
