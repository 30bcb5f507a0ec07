"""Requests received outside the privacy centre, filed by staff with the moment they arrived,
and the share answered on time per right and month."""

from __future__ import annotations

import re
from datetime import timedelta

from accounts_helpers import Clock
from console_helpers import csp_problems, signed_in, svgs, token_of
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from test_requests_pages_helpers import BASE, after_registration, file, stored

from jagadata.accounts.roles import Role
from jagadata.rights.clock import zone_of

WIB = zone_of("WIB")
SVG = "{http://www.w3.org/2000/svg}"


def _form(web: TestClient, **values: str) -> dict[str, str]:
    page = web.get(f"{BASE}/new")
    assert page.status_code == 200 and csp_problems(page.text) == []
    return {
        "right": "access",
        "identifier": "email",
        "language": "id",
        "csrf_token": token_of(page.text),
        **values,
    }


def test_staff_file_a_letter_with_the_time_it_arrived_and_its_original(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    after_registration(sessions_of, clock)
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF)
    arrived = (clock.now - timedelta(hours=30)).replace(second=0, microsecond=0)
    scan = b"%PDF-1.4 surat permohonan akses"
    future = web.post(
        f"{BASE}/new",
        data=_form(web, value=faker_id.email(),
                   received_at=(clock.now + timedelta(days=1)).astimezone(WIB)
                   .strftime("%Y-%m-%dT%H:%M")),
        files={"original": ("surat.pdf", scan, "application/pdf")},
    )  # fmt: skip
    assert future.status_code == 400 and 'data-field="received_at"' in future.text
    missing = web.post(
        f"{BASE}/new",
        data=_form(web, value=faker_id.email(),
                   received_at=arrived.astimezone(WIB).strftime("%Y-%m-%dT%H:%M")),
    )  # fmt: skip
    assert missing.status_code == 400 and 'data-field="original"' in missing.text
    filed = web.post(
        f"{BASE}/new",
        data=_form(web, value=faker_id.email(), verify="1",
                   verify_reason="Datang langsung ke kantor dengan KTP",
                   received_at=arrived.astimezone(WIB).strftime("%Y-%m-%dT%H:%M")),
        files={"original": ("surat.pdf", scan, "application/pdf")},
        follow_redirects=False,
    )  # fmt: skip
    assert filed.status_code == 303, filed.text
    reference = re.search(r"/requests/(R-[A-Z0-9]{8})\?done=filed", filed.headers["location"])
    assert reference is not None
    request = stored(sessions_of, reference.group(1))
    assert request.channel == "staff" and request.status == "verified"
    assert request.received_at == arrived
    assert request.due_at == arrived + timedelta(hours=72)
    with sessions_of() as session:
        kinds = session.execute(
            text("SELECT kind, size FROM rights_request_attachment WHERE request_id = :id"),
            {"id": request.id},
        ).all()
    assert [(k.kind, k.size) for k in kinds] == [("original", len(scan))]


def test_on_behalf_needs_proof(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    after_registration(sessions_of, clock)
    signed_in(web, sessions_of, faker_id, clock, role=Role.DPO)
    when = (clock.now - timedelta(hours=1)).astimezone(WIB).strftime("%Y-%m-%dT%H:%M")
    values = dict(value=faker_id.email(), received_at=when, on_behalf="parent",
                  representative="Ibu kandung")  # fmt: skip
    original = ("wa.png", b"\x89PNG screenshot", "image/png")
    refused = web.post(f"{BASE}/new", data=_form(web, **values), files={"original": original})
    assert refused.status_code == 400 and 'data-field="proof"' in refused.text
    filed = web.post(
        f"{BASE}/new",
        data=_form(web, **values),
        files={
            "original": original,
            "proof": ("kk.pdf", b"%PDF kartu keluarga", "application/pdf"),
        },
        follow_redirects=False,
    )
    assert filed.status_code == 303
    reference = filed.headers["location"].split("/requests/")[1].split("?")[0]
    request = stored(sessions_of, reference)
    assert request.on_behalf == "parent" and request.status == "received"


def test_the_on_time_chart_counts_closed_requests_per_right_and_month(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF)
    empty = web.get(f"{BASE}/sla")
    assert empty.status_code == 200 and 'id="sla-empty"' in empty.text
    on_time = file(sessions_of, faker_id, clock.now - timedelta(hours=2), started=True)
    late = file(sessions_of, faker_id, clock.now - timedelta(hours=80), started=True)
    refused = file(sessions_of, faker_id, clock.now - timedelta(hours=1), started=True)
    for reference in (on_time, late):
        page = web.get(f"{BASE}/{reference}").text
        for task in re.findall(r'data-task="(\d+)" data-done="no"', page):
            web.post(f"{BASE}/{reference}/tasks/{task}", data={"csrf_token": token_of(page)})
        done = web.post(f"{BASE}/{reference}/fulfil",
                        data={"done": "Ekspor dikirim", "csrf_token": token_of(page)})  # fmt: skip
        assert done.status_code == 200
    page = web.get(f"{BASE}/{refused}").text
    web.post(f"{BASE}/{refused}/refuse", data={"ground": "33(b)", "explanation": "Data orang lain",
             "csrf_token": token_of(page)})  # fmt: skip
    chart = web.get(f"{BASE}/sla")
    assert csp_problems(chart.text) == []
    month = clock.now.astimezone(WIB).date().replace(day=1).isoformat()
    figures = {}
    for svg in svgs(chart.text):
        if svg.get("id") == "sla-access":
            for group in svg.iter(f"{SVG}g"):
                if group.get("data-group") == month:
                    figures = {c.get("data-series"): int(c.get("data-value", "-1"))
                               for c in group.iter(f"{SVG}rect")}  # fmt: skip
    assert figures == {"on_time": 2, "late": 1}
    row = chart.text.split(f'<tr data-group="{month}">')[1].split("</tr>")[0]
    assert re.findall(r'data-series="(\w+)">(\d+)<', row) == [("on_time", "2"), ("late", "1")]
