"""People's requests in the console: the queue by time left, one request's facts, tasks,
timeline and files, and every step of the workflow with its refusals."""

from __future__ import annotations

import re
from datetime import timedelta

from accounts_helpers import GELATO, MILLEALAB, Clock, audit_actions, organisation_id
from console_helpers import csp_problems, signed_in, svgs, token_of
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from test_requests_pages_helpers import BASE, file, stored

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


def test_the_queue_pages_filters_and_shows_a_paused_clock_frozen(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.DPO)
    now = clock.now
    made = [file(sessions_of, faker_id, now - timedelta(minutes=10 * n)) for n in range(27)]
    first = web.get(BASE)
    assert _queue_references(first.text) == made[::-1][:25]  # the oldest is due soonest
    assert "?page=2" in first.text
    second = web.get(f"{BASE}?page=2")
    assert _queue_references(second.text) == made[::-1][25:]
    counts = re.search(r'data-status="received"><a[^>]*>[^<]*</a>: <strong>(\d+)', first.text)
    assert counts is not None and counts.group(1) == "27"
    restriction = file(
        sessions_of, faker_id, now - timedelta(hours=2), right="restriction", started=True
    )
    only = web.get(f"{BASE}?right=restriction")
    assert _queue_references(only.text) == [restriction]
    page = web.get(f"{BASE}/{restriction}")
    paused = web.post(
        f"{BASE}/{restriction}/pause",
        data={"reason": "awaiting_information", "note": "KK", "csrf_token": token_of(page.text)},
    )
    assert paused.status_code == 200 and 'id="request-notice"' in paused.text
    clock.advance(minutes=20)
    queue = web.get(f"{BASE}?right=restriction&lang=en")
    row = queue.text.split(f'data-reference="{restriction}"')[1].split("</tr>")[0]
    assert "paused, 2 days 22 hours left" in row  # frozen at the pause: 70 hours, not 69 h 40


def test_another_organisation_s_request_is_not_found_and_viewers_are_refused(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.VIEWER, also={MILLEALAB: Role.STAFF})
    theirs = file(sessions_of, faker_id, clock.now, org=MILLEALAB)
    ours = file(sessions_of, faker_id, clock.now)
    assert web.get(BASE).status_code == 403
    assert web.get(f"{BASE}/{ours}").status_code == 403
    assert web.get(f"/admin/o/{MILLEALAB}/requests/{ours}").status_code == 404
    assert web.get(f"/admin/o/{MILLEALAB}/requests/{theirs}").status_code == 200
    assert ours not in web.get(f"/admin/o/{MILLEALAB}/requests").text


def test_the_person_s_data_is_shown_only_with_a_reason_written_to_the_audit_log(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF)
    reference = file(sessions_of, faker_id, clock.now)
    contact = stored(sessions_of, reference).contact
    page = web.get(f"{BASE}/{reference}")
    assert contact not in page.text
    token = token_of(page.text)
    refused = web.post(f"{BASE}/{reference}/person", data={"reason": "lihat", "csrf_token": token})
    assert refused.status_code == 400 and contact not in refused.text
    org = organisation_id(sessions_of, GELATO)
    assert "rights.request.viewed" not in [e.action for e in audit_actions(sessions_of, org)]
    shown = web.post(
        f"{BASE}/{reference}/person",
        data={"reason": "menangani permohonan akses", "csrf_token": token},
    )
    assert shown.status_code == 200 and contact in shown.text
    entry = [e for e in audit_actions(sessions_of, org) if e.action == "rights.request.viewed"][-1]
    assert entry.details["reason"] == "menangani permohonan akses"
    assert entry.target_id == reference


def test_overdue_requests_show_in_the_menu_badge_and_on_the_home_page(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF)
    assert 'id="nav-badge-requests"' not in web.get(BASE).text
    file(sessions_of, faker_id, clock.now - timedelta(hours=73))
    file(sessions_of, faker_id, clock.now - timedelta(hours=75))
    file(sessions_of, faker_id, clock.now - timedelta(hours=60))
    clock.advance(seconds=31)  # the session's activity moves, and the badge with it
    home = web.get(f"/admin/o/{GELATO}/?lang=en")
    badge = re.search(r'id="nav-badge-requests">(\d+)<', home.text)
    assert badge is not None and badge.group(1) == "2"
    assert "2 requests are past their deadline." in home.text
    assert "requests?overdue=1" in home.text
    values = {}
    for svg in svgs(home.text):
        if svg.get("id") == "requests-chart":
            values = {
                g.get("data-key"): int(g.get("data-value", "-1"))
                for g in svg.iter("{http://www.w3.org/2000/svg}g")
            }
    assert values == {"overdue": 2, "day": 1, "later": 0, "paused": 0}
    overdue = web.get(f"{BASE}?overdue=1")
    assert len(_queue_references(overdue.text)) == 2


def test_no_step_reaches_another_organisation_s_request_and_viewers_see_no_person(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF, also={MILLEALAB: Role.VIEWER})
    theirs = file(sessions_of, faker_id, clock.now, org=MILLEALAB, started=True)
    token = token_of(web.get(BASE).text)
    for step in ("start", "fulfil", "person", "notes", "attachments/1"):
        answer = web.post(f"{BASE}/{theirs}/{step}", data={"csrf_token": token, "text": "x" * 20,
                          "reason": "permohonan nomor R-1"})  # fmt: skip
        assert answer.status_code == 404, step
    other = f"/admin/o/{MILLEALAB}/requests"
    for path in (f"{other}/{theirs}/person", f"{other}/new", f"{other}/{theirs}/start"):
        answer = web.post(path, data={"csrf_token": token, "reason": "permohonan nomor R-1"})
        assert answer.status_code == 403, path
    assert stored(sessions_of, theirs).status == "in_progress"


def test_filters_update_the_results_in_place(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF)
    access = file(sessions_of, faker_id, clock.now - timedelta(hours=1))
    erasure = file(sessions_of, faker_id, clock.now - timedelta(hours=2), right="erasure")
    part = web.get(f"{BASE}?right=erasure", headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith('<section id="request-results"')
    assert _queue_references(part.text) == [erasure] and access not in part.text
    assert _queue_references(web.get(f"{BASE}?assignee=none").text) == [access, erasure]
    assert _queue_references(web.get(f"{BASE}?assignee=me").text) == []
    assert "requests-none" in web.get(f"{BASE}?status=fulfilled").text
