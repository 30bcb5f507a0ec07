"""The outbox in the console: messages counted by state (the chart's numbers are the table's),
dead letters retried (audited, the worker nudged after commit), and a recipient shown only
once its viewing is in the audit trail."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from accounts_helpers import GELATO, MILLEALAB, Clock, audit_actions, organisation_id
from console_helpers import signed_in, svgs, token_of
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.roles import Role
from jagadata.db import atomic
from jagadata.identities import identity_hash
from jagadata.jobs import JobQueue, install_queue, make_queue
from jagadata.notify.models import OutboxMessage, OutboxStatus
from jagadata.notify.service import enqueue_email

PAGE = f"/admin/o/{GELATO}/outbox"


@pytest.fixture
def parked_queue(app: FastAPI) -> Iterator[JobQueue]:
    """A real queue that no worker takes from: nudges can be counted."""
    queue = make_queue(app.state.settings)
    previous = install_queue(queue)
    yield queue
    install_queue(previous)
    queue.close()


def _messages(
    factory: sessionmaker[Session], faker: Faker, org: int, statuses: list[OutboxStatus]
) -> list[tuple[int, str]]:
    made = []
    with factory() as session, atomic(session):
        for status in statuses:
            to = faker.unique.email()
            message = enqueue_email(
                session=session, organisation_id=org, to=to, subject="Uji", text="Uji"
            )
            session.flush()
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id)
                .values(status=status.value, attempts=6 if status is OutboxStatus.DEAD else 0,
                        last_error="550 mailbox unavailable" if status is OutboxStatus.DEAD
                        else None)
            )  # fmt: skip
            made.append((message.id, to))
    return made


def _bars(html: str, chart: str) -> dict[str, int]:
    for svg in svgs(html):
        if svg.get("id") == chart:
            rows = svg.findall("{http://www.w3.org/2000/svg}g")
            return {row.get("data-key", ""): int(row.get("data-value", "-1")) for row in rows}
    raise AssertionError(f"no chart {chart}")


def test_the_outbox_counts_messages_by_state_in_its_chart(
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
    parked_queue: JobQueue,
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.VIEWER)
    ours = organisation_id(sessions_of, GELATO)
    _messages(sessions_of, faker_id, ours, [OutboxStatus.PENDING] * 2 + [OutboxStatus.SENT]
              + [OutboxStatus.DEAD] * 3 + [OutboxStatus.FAILED])  # fmt: skip
    _messages(sessions_of, faker_id, organisation_id(sessions_of, MILLEALAB), [OutboxStatus.DEAD])
    expected = {"pending": 2, "sending": 0, "sent": 1, "failed": 1, "dead": 3}
    page = web.get(PAGE).text
    assert _bars(page, "outbox-chart") == expected
    assert page.count('<tr data-message="') == 3
    assert "mailbox unavailable" in page
    assert "/recipient" not in page, "a viewer is offered no recipient"
    home = web.get(f"/admin/o/{GELATO}/").text
    assert _bars(home, "outbox-chart") == expected
    attention = re.findall(r'<li class="attention-(\w+)"><a href="/admin/o/[a-z-]+/(\w*)">', home)
    assert ("error", "outbox") in attention and ("warning", "outbox") in attention


@pytest.mark.usefixtures("parked_queue")
def test_a_recipient_is_shown_only_after_its_viewing_is_audited(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    staff = signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF)
    org = organisation_id(sessions_of, GELATO)
    [(message_id, recipient)] = _messages(sessions_of, faker_id, org, [OutboxStatus.DEAD])
    page = web.get(PAGE)
    assert recipient not in page.text
    before = len(audit_actions(sessions_of, org))
    shown = web.post(
        f"{PAGE}/{message_id}/recipient",
        data={"csrf_token": token_of(page.text)},
        headers={"hx-request": "true"},
    )
    assert shown.status_code == 200
    assert shown.text.strip() == f'<code class="recipient">{recipient}</code>'
    entries = audit_actions(sessions_of, org)
    assert len(entries) == before + 1
    viewed = entries[-1]
    assert viewed.action == "outbox.recipient_viewed"
    assert viewed.actor_id == str(staff.id) and viewed.target_id == str(message_id)
    assert viewed.subject_ref == identity_hash("email", recipient)
    assert recipient not in repr(viewed.details)
    full = web.post(f"{PAGE}/{message_id}/recipient", data={"csrf_token": token_of(page.text)})
    assert recipient in full.text and "<html" in full.text, "without JavaScript: the whole page"
    assert len(audit_actions(sessions_of, org)) == before + 2


@pytest.mark.usefixtures("parked_queue")
def test_a_viewer_cannot_see_a_recipient_and_nothing_is_recorded(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.VIEWER)
    org = organisation_id(sessions_of, GELATO)
    [(message_id, recipient)] = _messages(sessions_of, faker_id, org, [OutboxStatus.DEAD])
    before = len(audit_actions(sessions_of, org))
    token = token_of(web.get(PAGE).text)
    refused = web.post(f"{PAGE}/{message_id}/recipient", data={"csrf_token": token})
    assert refused.status_code == 403 and recipient not in refused.text
    assert len(audit_actions(sessions_of, org)) == before


def test_a_dead_letter_is_retried_and_the_retry_audited(
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
    parked_queue: JobQueue,
) -> None:
    dpo = signed_in(web, sessions_of, faker_id, clock, role=Role.DPO)
    org = organisation_id(sessions_of, GELATO)
    [(message_id, _)] = _messages(sessions_of, faker_id, org, [OutboxStatus.DEAD])
    [(theirs, _)] = _messages(
        sessions_of, faker_id, organisation_id(sessions_of, MILLEALAB), [OutboxStatus.DEAD]
    )
    nudges = parked_queue.pending_count()
    token = token_of(web.get(PAGE).text)
    response = web.post(
        f"{PAGE}/{message_id}/retry", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}?retried={message_id}"
    with sessions_of() as session:
        message = session.get(OutboxMessage, message_id)
        assert message is not None
        assert message.status == OutboxStatus.PENDING and message.attempts == 0
    assert parked_queue.pending_count() == nudges + 1
    retried = audit_actions(sessions_of, org)[-1]
    assert retried.action == "outbox.retried" and retried.actor_id == str(dpo.id)
    again = web.post(f"{PAGE}/{message_id}/retry", data={"csrf_token": token})
    assert again.status_code == 409
    other = web.post(f"{PAGE}/{theirs}/retry", data={"csrf_token": token})
    assert other.status_code == 404
    assert web.post(f"{PAGE}/{theirs}/recipient", data={"csrf_token": token}).status_code == 404
