"""The datastore engine on a request's page: a started erasure in MilleaLab's mapped platform
database is done by the engine at once; when it cannot be (no connection stored), the page says
why in the staff member's language and offers to try again, which then does it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from accounts_helpers import Clock
from console_helpers import signed_in, token_of
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from test_requests_pages_helpers import file, stored

from jagadata.accounts.roles import Role
from jagadata.config import Settings
from jagadata.datastores.demo import create_demo_database
from jagadata.datastores.service import store_secret
from jagadata.db.tenancy import scope
from jagadata.jobs.queue import JobQueue, install_queue, make_queue
from jagadata.orgs.service import get_organisation

ORG = "millealab"
BASE = f"/admin/o/{ORG}/requests"


@pytest.fixture
def immediate_queue(settings: Settings) -> Iterator[JobQueue]:
    """Jobs run as soon as the transaction that queued them commits."""
    queue = make_queue(settings, immediate=True)
    previous = install_queue(queue)
    yield queue
    install_queue(previous)
    queue.close()


def _connect(factory: sessionmaker[Session], url: str) -> None:
    with factory() as session:
        organisation = get_organisation(session=session, slug=ORG)
        assert organisation is not None
        scope(session, organisation.id)
        store_secret(session, organisation.id, "platform_db", url)
        session.commit()


def test_the_engine_s_failure_is_shown_and_trying_again_does_the_task(
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
    immediate_queue: JobQueue,
    tmp_path: Path,
) -> None:
    path = tmp_path / "platform.sqlite3"
    create_demo_database(path)
    url = f"sqlite:///{path}"
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF, org=ORG)
    reference = file(
        sessions_of, faker_id, clock.now - timedelta(hours=1), right="erasure", org=ORG,
        started=True,
    )  # fmt: skip
    page = web.get(f"{BASE}/{reference}", headers={"Accept-Language": "id"}).text
    said = re.search(r'data-engine="(\d+)">([^<]+)<', page)
    assert said is not None, "the page says nothing of the engine"
    assert "belum ada rahasia koneksi" in said.group(2)  # the reason, in Indonesian
    task = said.group(1)
    assert f"/tasks/{task}/engine" in page

    _connect(sessions_of, url)
    answer = web.post(
        f"{BASE}/{reference}/tasks/{task}/engine", data={"csrf_token": token_of(page)}
    )
    assert answer.status_code == 200  # followed back to the request
    page = web.get(f"{BASE}/{reference}", headers={"Accept-Language": "en"}).text
    assert "Done by the engine: no rows of the person were found" in page
    assert re.search(rf'data-task="{task}" data-done="yes"', page)
    assert stored(sessions_of, reference).status == "in_progress"
    assert f"/tasks/{task}/engine" not in page  # nothing left for the engine to do
