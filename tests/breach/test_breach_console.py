"""The breach register in the console: a DPO records a breach of MilleaLab's platform database,
sees the people affected and the time left, sends the notices through the outbox to a real
SMTP server, and exports the timeline; staff without the right see nothing."""

from __future__ import annotations

import json

from accounts_helpers import MILLEALAB, Clock
from breach_platform import Mapped
from console_helpers import signed_in, token_of
from faker import Faker
from fastapi.testclient import TestClient
from notify_servers import RecordingSmtpServer
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.roles import Role
from jagadata.jobs import JobQueue

PAGE = f"/admin/o/{MILLEALAB}/breaches"


def test_a_dpo_records_a_breach_and_notifies_the_people_from_the_console(
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
    millealab: Mapped,
    smtp_server: RecordingSmtpServer,
    delivering_queue: JobQueue,
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.DPO, org=MILLEALAB)
    register = web.get(PAGE)
    assert register.status_code == 200 and 'id="breach-form"' in register.text
    recorded = web.post(
        PAGE,
        data={
            "csrf_token": token_of(register.text),
            "title": "Laptop guru hilang",
            "discovered": "2026-11-23T14:30",  # WIB: 07:30 UTC, before the clock's 09:00 UTC
            "occurred": "",
            "system": "platform_db",
            "category": ["pupil_profile", "assessment"],
            "what": "Laptop berisi ekspor nilai siswa hilang di kereta.",
            "measures": "Akun guru dikunci dan ekspor dihapus dari perangkat lain.",
        },
        follow_redirects=False,
    )
    assert recorded.status_code == 303, recorded.text
    incident_url = recorded.headers["location"].split("?", 1)[0]
    reference = incident_url.rsplit("/", 1)[1]
    page = web.get(incident_url).text
    pupils = len(millealab.platform.pupils)
    assert 'data-status="open"' in page
    affected = page.split('id="breach-affected"', 1)[1].split("</p>", 1)[0]
    assert f">{pupils} " in affected or f" {pupils} " in affected
    assert "Pasal 46 ayat (1)" in page and "Laptop berisi ekspor nilai siswa hilang" in page
    assert "70" in page.split('id="breach-time-left"', 1)[1].split("</dd>", 1)[0]  # 72 h - 1.5 h

    sent = web.post(
        f"{incident_url}/notify/people",
        data={"csrf_token": token_of(page)},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert len(smtp_server.received) == pupils
    assert {e.recipients[0] for e in smtp_server.received} == set(
        millealab.platform.guardians.values()
    )
    register = web.get(PAGE).text
    assert f'data-reference="{reference}"' in register

    evidence = json.loads(web.get(f"{incident_url}/timeline.json").text)
    assert [e["kind"] for e in evidence["timeline"]] == [
        "recorded",
        "assessed",
        "subjects_notified",
    ]
    assert evidence["chain"]["intact"] is True
    assert evidence["incident"]["affected"]["children"] == pupils
    document = web.get(f"{incident_url}/authority.html").text
    assert "Pasal 46 ayat (2) huruf a" in document and "Profil siswa" in document


def test_staff_without_the_right_see_no_breach(
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
    millealab: Mapped,
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF, org=MILLEALAB)
    assert web.get(PAGE).status_code == 403
    assert web.get(f"{PAGE}/B-ANYTHING/timeline.json").status_code == 403


def test_a_breach_without_a_system_is_refused_with_the_form_kept(
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
    millealab: Mapped,
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.OWNER, org=MILLEALAB)
    register = web.get(PAGE, params={"lang": "id"})
    refused = web.post(
        PAGE,
        params={"lang": "id"},
        data={
            "csrf_token": token_of(register.text),
            "title": "Surel massal salah kirim",
            "what": "Daftar penerima terlihat oleh semua penerima.",
            "measures": "Pengiriman massal kini memakai BCC.",
        },
    )
    assert refused.status_code == 400
    assert "sebutkan sedikitnya satu sistem yang terdampak" in refused.text
    assert 'value="Surel massal salah kirim"' in refused.text
    assert 'data-reference="' not in refused.text
