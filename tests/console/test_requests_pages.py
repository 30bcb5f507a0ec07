"""People's requests in the console: the queue by time left, one request's facts, tasks,
timeline and files, and every step of the workflow with its refusals."""

from __future__ import annotations

import re
from datetime import timedelta

from accounts_helpers import GELATO, MILLEALAB, Clock, audit_actions, organisation_id
from console_helpers import csp_problems, signed_in, token_of
from faker import Faker
from fastapi.testclient import TestClient
from requests_pages_helpers import BASE, file, stored
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.roles import Role


def _queue_references(html: str) -> list[str]:
    return re.findall(r'<tr data-reference="(R-[A-Z0-9]{8})"', html)


def test_an_empty_queue_says_where_requests_come_from(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF)
    page = web.get(BASE)
    assert page.status_code == 200
    assert 'id="requests-empty"' in page.text
    assert f"/o/{GELATO}/requests/new" in page.text
    assert csp_problems(page.text) == []


def test_the_queue_is_ordered_by_time_left_overdue_first(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF)
    now = clock.now
    soon = file(sessions_of, faker_id, now - timedelta(hours=60))  # 12 h left
    late = file(sessions_of, faker_id, now - timedelta(hours=80))  # 8 h overdue
    fresh = file(sessions_of, faker_id, now - timedelta(hours=1))  # 71 h left
    page = web.get(BASE)
    assert _queue_references(page.text) == [late, soon, fresh]
    assert csp_problems(page.text) == []
