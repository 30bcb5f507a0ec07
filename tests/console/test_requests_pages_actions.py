"""Every step on a request's page calls the workflow: its happy path, and its refusal with the
reason shown and nothing changed."""

from __future__ import annotations

import re
from datetime import timedelta

from accounts_helpers import GELATO, Clock, audit_actions, organisation_id, set_up_person, sign_in
from console_helpers import signed_in, token_of
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker
from test_requests_pages_helpers import BASE, file, stored

from jagadata.accounts.roles import Role
from jagadata.db import atomic
from jagadata.db.tenancy import cross_organisation_session
from jagadata.rights.models import RequestEvent, RightsRequest


def _post(web: TestClient, reference: str, step: str, **data: str) -> tuple[int, str]:
    page = web.get(f"{BASE}/{reference}")
    answer = web.post(
        f"{BASE}/{reference}/{step}", data={**data, "csrf_token": token_of(page.text)}
    )
    return answer.status_code, answer.text


def _tasks(html: str) -> list[str]:
    return re.findall(r'data-task="(\d+)" data-done="no"', html)


def _kinds(factory: sessionmaker[Session], reference: str) -> list[str]:
    with cross_organisation_session(factory) as session:
        request = stored(factory, reference)
        return list(
            session.scalars(
                RequestEvent.__table__.select()
                .with_only_columns(RequestEvent.kind)
                .where(RequestEvent.request_id == request.id)
                .order_by(RequestEvent.sequence)
            )
        )


def test_a_request_is_verified_started_its_tasks_ticked_and_fulfilled(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF)
    reference = file(sessions_of, faker_id, clock.now - timedelta(hours=3))
    status, page = _post(web, reference, "start")
    assert status == 409 and 'id="request-errors"' in page
    assert stored(sessions_of, reference).status == "received"
    status, page = _post(web, reference, "verify", reason="")
    assert status == 409 and stored(sessions_of, reference).status == "received"
    assert _post(web, reference, "verify", reason="nomor WhatsApp dikenal")[0] == 200
    assert _post(web, reference, "start")[0] == 200
    tasks = _tasks(web.get(f"{BASE}/{reference}").text)
    assert len(tasks) == 3
    status, page = _post(web, reference, "fulfil", done="Ekspor dikirim")
    assert status == 409 and stored(sessions_of, reference).status == "in_progress"
    for task in tasks:
        assert _post(web, reference, f"tasks/{task}", note="selesai")[0] == 200
    status, page = _post(web, reference, "fulfil", done="")
    assert status == 409
    status, page = _post(
        web, reference, "fulfil", done="Ekspor dikirim", kept="faktur", kept_because=""
    )
    assert status == 409
    status, page = _post(
        web,
        reference,
        "fulfil",
        done="Ekspor dikirim lewat email",
        kept="faktur",
        kept_because="UU KUP Pasal 28: 10 tahun",
    )
    assert status == 200
    request = stored(sessions_of, reference)
    assert request.status == "fulfilled"
    assert request.outcome is not None and request.outcome["kept_because"].startswith("UU KUP")
    kinds = _kinds(sessions_of, reference)
    assert kinds.count("task_done") == 3 and "fulfilled" in kinds
    assert "The timeline is intact" in web.get(f"{BASE}/{reference}?lang=en").text


def test_a_refusal_needs_a_ground_of_this_right_and_its_reference(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.DPO)
    reference = file(sessions_of, faker_id, clock.now, started=True)
    page = web.get(f"{BASE}/{reference}").text
    grounds = re.findall(r'<option value="([0-9()a-z]+)">', page.split('id="refuse-ground"')[1])
    assert grounds[:3] == ["33(a)", "33(b)", "33(c)"] and "41(2)(b)" not in grounds
    for ground, law in (("", ""), ("41(2)(b)", ""), ("50(1)(b)", "")):
        status, _ = _post(
            web,
            reference,
            "refuse",
            ground=ground,
            law=law,
            explanation="Data orang lain ikut terbuka",
        )
        assert status == 409, ground
        assert stored(sessions_of, reference).status == "in_progress"
    status, _ = _post(web, reference, "refuse", ground="33(b)", explanation="")
    assert status == 409
    status, _ = _post(
        web,
        reference,
        "refuse",
        ground="50(1)(b)",
        law="KUHAP Pasal 5",
        explanation="Sedang dalam penyidikan",
    )
    assert status == 200
    request = stored(sessions_of, reference)
    assert request.status == "refused" and request.refusal_ground == "50(1)(b)"


def test_approval_needs_another_person(
    app: FastAPI,
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF)
    reference = file(sessions_of, faker_id, clock.now, right="restriction", started=True)
    with cross_organisation_session(sessions_of) as session, atomic(session):
        session.execute(
            update(RightsRequest)
            .where(RightsRequest.reference == reference)
            .values(approval_required=True)
            .execution_options(synchronize_session=False)
        )
    for task in _tasks(web.get(f"{BASE}/{reference}").text):
        _post(web, reference, f"tasks/{task}", note="dibatasi")
    assert _post(web, reference, "fulfil", done="Pemrosesan dibatasi")[0] == 200
    assert stored(sessions_of, reference).status == "awaiting_approval"
    assert 'id="approve-form"' not in web.get(f"{BASE}/{reference}").text
    status, _ = _post(web, reference, "approve")
    assert status == 409 and stored(sessions_of, reference).status == "awaiting_approval"
    dpo = set_up_person(sessions_of, faker_id, role=Role.DPO)
    with TestClient(app, base_url="http://testserver") as other:
        sign_in(other, dpo, clock)
        assert _post(other, reference, "reject", reason="")[0] == 409
        assert _post(other, reference, "approve")[0] == 200
    assert stored(sessions_of, reference).status == "fulfilled"


def test_pause_resume_assign_note_and_the_clock_from_verification(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    person = signed_in(web, sessions_of, faker_id, clock, role=Role.OWNER)
    reference = file(sessions_of, faker_id, clock.now - timedelta(hours=10), started=True)
    due = stored(sessions_of, reference).due_at
    assert due is not None
    assert _post(web, reference, "pause", reason="bogus")[0] == 409
    assert _post(web, reference, "resume")[0] == 409
    assert _post(web, reference, "pause", reason="awaiting_information")[0] == 200
    assert stored(sessions_of, reference).due_at is None
    assert _post(web, reference, "pause", reason="awaiting_information")[0] == 409
    clock.advance(minutes=25)
    assert _post(web, reference, "resume")[0] == 200
    moved = stored(sessions_of, reference).due_at
    assert moved is not None and moved - due == timedelta(minutes=25)
    assert _post(web, reference, "assign", assignee="987654")[0] == 409
    assert _post(web, reference, "assign", assignee=str(person.id))[0] == 200
    assert stored(sessions_of, reference).assignee_id == person.id
    assert _post(web, reference, "notes", text="")[0] == 409
    assert _post(web, reference, "notes", text="Menelepon pemohon")[0] == 200
    assert _post(web, reference, "clock", reason="")[0] == 409
    assert (
        _post(web, reference, "clock", reason="Kebijakan internal: dihitung dari verifikasi")[0]
        == 200
    )
    assert stored(sessions_of, reference).clock_start == "verification"
    kinds = _kinds(sessions_of, reference)
    assert {"paused", "resumed", "assigned", "note", "clock_start_changed"} <= set(kinds)
    org = organisation_id(sessions_of, GELATO)
    assert "rights.request.assigned" in [e.action for e in audit_actions(sessions_of, org)]


def test_files_are_encrypted_at_rest_and_their_download_is_audited(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF)
    reference = file(sessions_of, faker_id, clock.now, started=True)
    content = ("nama,kota\n" + faker_id.name() + ",Yogyakarta\n").encode()
    token = token_of(web.get(f"{BASE}/{reference}").text)
    refused = web.post(
        f"{BASE}/{reference}/attachments",
        data={"kind": "export", "csrf_token": token},
        files={"file": ("data.exe", b"MZ", "application/octet-stream")},
    )
    assert refused.status_code == 409
    big = web.post(
        f"{BASE}/{reference}/attachments",
        data={"kind": "export", "csrf_token": token},
        files={"file": ("big.txt", b"x" * (10 * 1024 * 1024 + 1), "text/plain")},
    )
    assert big.status_code == 409
    task = _tasks(web.get(f"{BASE}/{reference}").text)[0]
    ticked = web.post(
        f"{BASE}/{reference}/tasks/{task}",
        data={"note": "ekspor", "kind": "export", "csrf_token": token},
        files={"file": ("ekspor.csv", content, "text/csv")},
    )
    assert ticked.status_code == 200
    with sessions_of() as session:
        raw = session.execute(
            text("SELECT id, content, filename, task_id FROM rights_request_attachment")
        ).one()
    assert b"Yogyakarta" not in str(raw.content).encode() and "ekspor" not in raw.filename
    assert raw.task_id == int(task)
    page = web.get(f"{BASE}/{reference}")
    assert f'data-attachment="{raw.id}"' in page.text
    assert "ekspor.csv" not in page.text  # a file's name can name the person: audited view only
    download = web.post(
        f"{BASE}/{reference}/attachments/{raw.id}", data={"csrf_token": token_of(page.text)}
    )
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"].startswith("text/csv")
    org = organisation_id(sessions_of, GELATO)
    actions = [e.action for e in audit_actions(sessions_of, org)]
    assert "rights.attachment.added" in actions and "rights.attachment.downloaded" in actions
