"""The console's retention page: an organisation's last sweeps with their counts, never
another organisation's, and what the next sweep looks at under the manifest in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accounts_helpers import GELATO, MILLEALAB, Clock, organisation_id
from console_helpers import signed_in
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.roles import Role
from jagadata.db import atomic
from jagadata.db.tenancy import scope
from jagadata.retention.models import RetentionRun, SweepStatus

PAGE = f"/admin/o/{GELATO}/retention"


def _run(factory: sessionmaker[Session], org: int, deleted: int, anonymised: int) -> int:
    moment = datetime(2026, 7, 1, 2, tzinfo=UTC)
    tables = [
        {"system": "shop_db", "table": "chats", "action": "delete", "done": deleted,
         "skipped": 0, "reason": None},
        {"system": "shop_db", "table": "customers", "action": "anonymise", "done": anonymised,
         "skipped": 1, "reason": None},
    ]  # fmt: skip
    with factory() as session, atomic(session):
        scope(session, org)
        run = RetentionRun(
            organisation_id=org,
            trigger="job",
            status=SweepStatus.DONE.value,
            cutoff=moment,
            started_at=moment,
            finished_at=moment + timedelta(minutes=3),
            report={"tables": tables, "errors": []},
        )
        session.add(run)
        session.flush()
        return run.id


def test_the_page_shows_the_organisation_s_last_sweeps_and_no_other_s(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.VIEWER)
    ours = _run(sessions_of, organisation_id(sessions_of, GELATO), deleted=7, anonymised=11)
    theirs = _run(sessions_of, organisation_id(sessions_of, MILLEALAB), deleted=5, anonymised=3)

    page = web.get(PAGE)

    assert page.status_code == 200
    html = page.text
    row = html.split(f'data-run="{ours}"', 1)[1].split("</tr>", 1)[0]
    assert ">7<" in row and ">11<" in row and ">1<" in row
    assert f'data-run="{theirs}"' not in html
    assert 'id="retention-due"' in html or 'id="retention-nothing-mapped"' in html


def test_a_person_of_another_organisation_cannot_see_the_page(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.VIEWER, org=MILLEALAB)
    assert web.get(PAGE).status_code in (403, 404)
