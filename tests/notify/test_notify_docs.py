"""docs/jobs.md stays true: every job, status, retry delay, throttling code and webhook header
is there, and the receiver's verification code it gives accepts a real delivery."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from notify_servers import WebhookReceiver
from sqlalchemy.orm import Session

from jagadata.db import atomic
from jagadata.jobs import DEFAULT_LEASE, JobQueue
from jagadata.jobs.registry import load_all_jobs
from jagadata.notify.channels.webhook import TOLERANCE_SECONDS, WEBHOOK_TIMEOUT_SECONDS
from jagadata.notify.channels.whatsapp import THROTTLING_CODES
from jagadata.notify.models import OutboxStatus
from jagadata.notify.service import JITTER, MAX_ATTEMPTS, RETRY_DELAYS, enqueue_webhook

DOC = (Path(__file__).resolve().parents[2] / "docs" / "jobs.md").read_text(encoding="utf-8")


def _spoken(delay: timedelta) -> str:
    minutes = int(delay.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} minute" + ("s" if minutes > 1 else "")
    hours = minutes // 60
    return f"{hours} hour" + ("s" if hours > 1 else "")


def test_every_job_and_periodic_job_is_documented() -> None:
    jobs, periodic_jobs = load_all_jobs()
    missing = [name for name in [*jobs, *periodic_jobs] if f"| `{name}` |" not in DOC]
    assert not missing, f"document these jobs in docs/jobs.md: {missing}"


def test_every_outbox_status_is_documented() -> None:
    assert all(f"| `{status.value}` |" in DOC for status in OutboxStatus)


def test_the_retry_table_is_the_schedule_in_the_code() -> None:
    for attempt, delay in enumerate(RETRY_DELAYS, start=1):
        assert f"| {attempt} | {_spoken(delay)} |" in DOC
    assert f"| {MAX_ATTEMPTS} | — dead |" in DOC
    assert f"±{round(JITTER * 100)} %" in DOC


def test_numbers_in_the_text_are_the_code_s() -> None:
    assert f"(default {int(DEFAULT_LEASE.total_seconds())}," in DOC
    assert f"within {int(WEBHOOK_TIMEOUT_SECONDS)} s" in DOC
    assert f"no more than {TOLERANCE_SECONDS // 60} minutes away" in DOC
    listed = re.search(r"throttling codes \(([\d, ]+)\)", DOC)
    assert listed is not None
    assert {int(code) for code in listed.group(1).split(",")} == set(THROTTLING_CODES)


def test_the_documented_verification_accepts_a_real_delivery_and_nothing_else(
    session: Session,
    immediate_queue: JobQueue,
    webhook_receiver: WebhookReceiver,
    webhook_secret: str,
) -> None:
    with atomic(session):
        enqueue_webhook(
            session=session,
            organisation_id=None,
            url=webhook_receiver.url,
            event="request.received",
            payload={"request": 3},
            secret=webhook_secret,
        )
    [delivery] = webhook_receiver.deliveries
    headers = delivery.headers
    documented = set(re.findall(r"\| `(X-Jagadata-[A-Za-z]+)` \|", DOC))
    sent = {name for name in headers if name.startswith("x-jagadata-")}
    assert {name.lower() for name in documented} == sent

    code = re.search(r"```python\n(import hashlib.*?def verify.*?)```", DOC, re.DOTALL)
    assert code is not None, "the receiver's example is missing from docs/jobs.md"
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)
    verify = namespace["verify"]
    timestamp, signature = headers["x-jagadata-timestamp"], headers["x-jagadata-signature"]
    assert verify(webhook_secret, delivery.body, timestamp, signature)
    assert not verify(webhook_secret, delivery.body + b" ", timestamp, signature)
    assert not verify("another secret", delivery.body, timestamp, signature)
    assert not verify(webhook_secret, delivery.body, str(int(timestamp) - 600), signature)
