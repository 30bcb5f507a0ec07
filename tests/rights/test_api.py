"""The requests API on SQLite and PostgreSQL: an organisation's app files a person's request
(OpenDSR), with or without having verified the person, retries it safely, reads where it stands
as the staff move it, and withdraws it; every wrong body is a problem document naming its field."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta

import test_api_helpers as helpers
from accounts_helpers import Clock
from faker import Faker
from fastapi.testclient import TestClient
from notify_servers import RecordingSmtpServer
from rights_helpers import code_in
from sqlalchemy import func, select
from test_api_helpers import MILLEALAB, STAFF, Keys, Staff, bearer, dsr

from jagadata.audit.models import AuditEntry
from jagadata.rights import service
from jagadata.rights.models import RequestBundle, RequestEvent, RightsRequest

URL = "/api/v1/requests"
api_app, fake, keys, staff = helpers.api_app, helpers.fake, helpers.keys, helpers.staff


def _file(web: TestClient, keys: Keys, body: dict[str, object]) -> dict[str, object]:
    answer = web.post(URL, json=body, headers=bearer(keys.writer))
    assert answer.status_code == 201, answer.text
    document: dict[str, object] = answer.json()
    return document


def test_a_request_is_filed_and_the_person_gets_a_code(
    web: TestClient,
    keys: Keys,
    fake: Faker,
    clock: Clock,
    smtp_server: RecordingSmtpServer,
    staff: Staff,
) -> None:
    body = dsr(fake, clock.now, kind="access", language="en")
    person = body["subject_identities"][0]["identity_value"]  # type: ignore[index]
    document = _file(web, keys, body)
    assert document["controller_id"] == "la-gelato-academy"
    assert document["subject_request_id"] == body["subject_request_id"]
    assert document["request_status"] == "pending"
    assert document["received_time"] == clock.now.isoformat()
    # access: 3 x 24 hours from receipt (Art. 32(2))
    assert document["expected_completion_time"] == (clock.now + timedelta(hours=72)).isoformat()
    assert document["verification"] == {"status": "pending", "method": None, "code_sent": True}
    assert json.loads(base64.b64decode(document["encoded_request"])) == body  # type: ignore[arg-type]
    assert str(document["reference"]).startswith("R-")
    assert document["links"]["self"].endswith(f"/api/v1/requests/{body['subject_request_id']}")  # type: ignore[index]
    [email] = smtp_server.received
    assert email.recipients == [person]
    code = code_in(email)
    with staff.session_for() as session:
        request = staff.find(session, str(body["subject_request_id"]))
        assert request.channel == "api" and request.language == "en"
        assert request.subject_ref != person and person not in request.callback_url  # type: ignore[operator]
        service.verify_code(session, request, code, now=clock.now)
        session.commit()
    read = web.get(f"{URL}/{body['subject_request_id']}", headers=bearer(keys.reader)).json()
    assert read["verification"] == {"status": "verified", "method": "code", "code_sent": False}
    assert read["request_status"] == "pending" and read["status"] == "verified"
    assert [e["kind"] for e in read["timeline"]] == ["received", "code_sent", "note", "verified"]
    assert all(set(e) == {"sequence", "kind", "at", "status_after"} for e in read["timeline"])


def test_a_person_the_app_verified_gets_no_code(
    web: TestClient,
    keys: Keys,
    fake: Faker,
    clock: Clock,
    smtp_server: RecordingSmtpServer,
    staff: Staff,
) -> None:
    body = dsr(fake, clock.now - timedelta(minutes=10), kind="erasure", identity_verified=True)
    document = _file(web, keys, body)
    assert document["verification"] == {"status": "verified", "method": "api", "code_sent": False}
    assert document["status"] == "verified" and document["request_status"] == "pending"
    assert document["received_time"] == (clock.now - timedelta(minutes=10)).isoformat()
    assert smtp_server.received == []
    with staff.session_for() as session:
        request = staff.find(session, str(body["subject_request_id"]))
        verified = session.scalars(
            select(RequestEvent).where(
                RequestEvent.request_id == request.id, RequestEvent.kind == "verified"
            )
        ).one()
        assert verified.actor_kind == "api_key" and verified.data["method"] == "api"


def test_a_retry_returns_the_same_request_and_a_changed_body_is_refused(
    web: TestClient,
    keys: Keys,
    fake: Faker,
    clock: Clock,
    smtp_server: RecordingSmtpServer,
    staff: Staff,
) -> None:
    body = dsr(fake, clock.now, kind="access")
    first = _file(web, keys, body)
    again = web.post(URL, json=body, headers=bearer(keys.writer))
    assert again.status_code == 200
    assert again.json()["reference"] == first["reference"]
    assert len(smtp_server.received) == 1
    changed = {**body, "subject_request_type": "erasure"}
    conflict = web.post(URL, json=changed, headers=bearer(keys.writer, **{"accept-language": "id"}))
    assert conflict.status_code == 409
    problem = conflict.json()
    assert problem["errors"][0]["field"] == "subject_request_id"
    assert "subject_request_id" in problem["detail"] and "Traceback" not in conflict.text
    with staff.session_for() as session:
        count = session.scalar(
            select(func.count())
            .select_from(RightsRequest)
            .where(RightsRequest.external_id == body["subject_request_id"])
        )
        assert count == 1


def test_only_uu_pdp_is_served(web: TestClient, keys: Keys, fake: Faker, clock: Clock) -> None:
    cases = [
        ({"regulation": "gdpr"}, "regulation"),
        ({"regulation": None, "regulation_ids": ["uu-pdp", "ccpa"]}, "regulation_ids[1]"),
        ({"regulation": None}, "regulation"),
    ]
    for change, field in cases:
        body = {**dsr(fake, clock.now), **change}
        answer = web.post(URL, json=body, headers=bearer(keys.writer))
        assert answer.status_code == 422, change
        assert [e["field"] for e in answer.json()["errors"]] == [field]
    accepted = {**dsr(fake, clock.now), "regulation": None, "regulation_ids": ["uu-pdp"]}
    assert web.post(URL, json=accepted, headers=bearer(keys.writer)).status_code == 201


def test_the_identifier_must_be_one_the_manifest_declares(
    web: TestClient, keys: Keys, fake: Faker, clock: Clock
) -> None:
    nik = dsr(fake, clock.now, identity=("nik", "3171011708450001"))
    answer = web.post(URL, json=nik, headers=bearer(keys.writer, **{"accept-language": "en"}))
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "subject_identities[0].identity_type"
    assert "email, phone_number" in error["message"]
    # MilleaLab declares student numbers: staff verify them by hand, no code is sent
    student = dsr(fake, clock.now, identity=("controller_customer_id", "S-2026-0417"))
    filed = web.post(URL, json=student, headers=bearer(keys.millealab))
    assert filed.status_code == 201, filed.text
    assert filed.json()["verification"] == {"status": "pending", "method": None, "code_sent": False}
    assert filed.json()["controller_id"] == MILLEALAB


def test_wrong_bodies_name_their_field(
    web: TestClient, keys: Keys, fake: Faker, clock: Clock
) -> None:
    good = dsr(fake, clock.now)
    cases: list[tuple[dict[str, object], str]] = [
        ({"subject_request_id": "42"}, "subject_request_id"),
        ({"subject_request_type": "delete_everything"}, "subject_request_type"),
        ({"submitted_time": "2026-11-23T09:00:00"}, "submitted_time"),
        ({"submitted_time": (clock.now + timedelta(hours=2)).isoformat()}, "submitted_time"),
        ({"submitted_time": (clock.now - timedelta(days=400)).isoformat()}, "submitted_time"),
        ({"subject_identities": []}, "subject_identities"),
        (
            {"subject_identities": [{"identity_type": "email", "identity_value": "bukan-email"}]},
            "subject_identities[0].identity_value",
        ),
        ({"status_callback_urls": ["ftp://app.example.id/x"]}, "status_callback_urls[0]"),
        ({"status_callback_urls": ["http://app.example.id/x"]}, "status_callback_urls[0]"),
        ({"status_callback_urls": ["https://a.example.id"] * 4}, "status_callback_urls"),
        ({"subject_request_type": "rectification"}, "extensions.jagadata.details"),
        ({"extensions": {"jagadata": {"on_behalf": "parent"}}}, "extensions.jagadata.authority"),
        ({"extensions": {"jagadata": {"language": "de"}}}, "extensions.jagadata.language"),
        ({"surprise": 1}, "surprise"),
    ]
    for change, field in cases:
        answer = web.post(URL, json={**good, **change}, headers=bearer(keys.writer))
        assert answer.status_code == 422, (change, answer.text)
        problem = answer.json()
        assert problem["detail"] and field in [e["field"] for e in problem["errors"]], problem
    unreadable = web.post(
        URL,
        content=b"{not json",
        headers=bearer(keys.writer, **{"content-type": "application/json"}),
    )
    assert unreadable.status_code in (400, 422) and unreadable.json()["detail"]


def test_keys_see_only_their_organisation_and_need_their_scope(
    web: TestClient, keys: Keys, fake: Faker, clock: Clock
) -> None:
    body = dsr(fake, clock.now)
    assert web.post(URL, json=body).status_code == 401
    assert web.post(URL, json=body, headers=bearer(keys.reader)).status_code == 403
    assert web.post(URL, json=body, headers=bearer(keys.consent)).status_code == 403
    _file(web, keys, body)
    own = f"{URL}/{body['subject_request_id']}"
    assert web.get(own, headers=bearer(keys.reader)).status_code == 200
    assert web.get(own, headers=bearer(keys.consent)).status_code == 403
    assert web.get(own, headers=bearer(keys.millealab)).status_code == 404
    assert web.delete(own, headers=bearer(keys.millealab)).status_code == 404
    assert web.delete(own, headers=bearer(keys.reader)).status_code == 403
    listed = web.get(URL, headers=bearer(keys.millealab)).json()
    assert listed["total"] == 0 and listed["requests"] == []


def test_the_status_follows_the_workflow(
    web: TestClient, keys: Keys, fake: Faker, clock: Clock, staff: Staff
) -> None:
    refused = dsr(fake, clock.now, kind="access", identity_verified=True)
    done = dsr(fake, clock.now, kind="access", identity_verified=True)
    for body in (refused, done):
        _file(web, keys, body)

    def status_of(body: dict[str, object]) -> dict[str, object]:
        answer = web.get(f"{URL}/{body['subject_request_id']}", headers=bearer(keys.reader))
        document: dict[str, object] = answer.json()
        return document

    with staff.session_for() as session:
        for body in (refused, done):
            service.start(
                session, staff.find(session, str(body["subject_request_id"])), actor=STAFF
            )
        session.commit()
    assert status_of(refused)["request_status"] == "in_progress"
    with staff.session_for() as session:
        request = staff.find(session, str(refused["subject_request_id"]))
        service.refuse(session, request, actor=STAFF, ground="33(b)", explanation="Data orang lain")
        other = staff.find(session, str(done["subject_request_id"]))
        for task in service.tasks_of(session, other):
            service.complete_task(session, other, task.id, actor=STAFF, user_id=None, note=None)
        service.fulfil(session, other, actor=STAFF, outcome={"done": "export sent"})
        session.commit()
    closed = status_of(refused)
    assert closed["request_status"] == "completed" and closed["status"] == "refused"
    results = closed["results"]
    assert isinstance(results, dict)
    assert results["outcome"] == "refused" and results["reason_code"] == "33(b)"
    assert "33" in results["article"]
    fulfilled = status_of(done)
    assert fulfilled["request_status"] == "completed"
    assert fulfilled["results"]["outcome"] == "fulfilled"  # type: ignore[index]
    with staff.session_for() as session:
        bundles = session.scalar(
            select(func.count())
            .select_from(RequestBundle)
            .join(RightsRequest, RightsRequest.id == RequestBundle.request_id)
            .where(RightsRequest.external_id == done["subject_request_id"])
        )
    if bundles:  # an access bundle was prepared for the person
        assert str(fulfilled["results_url"]).endswith(
            f"/requests/{fulfilled['reference']}/download"
        )
    else:
        assert fulfilled["results_url"] is None
    assert closed["results_url"] is None
    completed = web.get(URL, params={"status": "completed"}, headers=bearer(keys.reader)).json()
    assert completed["total"] == 2
    assert all(r["encoded_request"] is None for r in completed["requests"])
    assert (
        web.get(URL, params={"status": "pending"}, headers=bearer(keys.reader)).json()["total"] == 0
    )


def test_delete_withdraws_the_request(
    web: TestClient, keys: Keys, fake: Faker, clock: Clock, staff: Staff
) -> None:
    body = dsr(fake, clock.now, kind="erasure")
    _file(web, keys, body)
    own = f"{URL}/{body['subject_request_id']}"
    withdrawn = web.delete(own, headers=bearer(keys.writer))
    assert withdrawn.status_code == 200
    assert withdrawn.json()["request_status"] == "cancelled"
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["timeline"][-1]["kind"] == "withdrawn"
    again = web.delete(own, headers=bearer(keys.writer, **{"accept-language": "en"}))
    assert again.status_code == 409 and "withdrawn" in again.json()["detail"]
    with staff.session_for() as session:
        request = staff.find(session, str(body["subject_request_id"]))
        assert service.verify_timeline(session, request) is None
        audit = session.scalars(
            select(AuditEntry.actor_kind).where(AuditEntry.action == "rights.request.withdrawn")
        ).all()
        assert audit == ["api_key"]
    unknown = web.delete(f"{URL}/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=bearer(keys.writer))
    assert unknown.status_code == 404


def test_the_list_pages_by_fifty(web: TestClient, keys: Keys, fake: Faker, clock: Clock) -> None:
    for _ in range(52):
        _file(web, keys, dsr(fake, clock.now, identity_verified=True))
    first = web.get(URL, headers=bearer(keys.reader)).json()
    second = web.get(URL, params={"page": 2}, headers=bearer(keys.reader)).json()
    assert first["total"] == second["total"] == 52
    assert len(first["requests"]) == 50 and len(second["requests"]) == 2
    ids = {r["subject_request_id"] for r in first["requests"] + second["requests"]}
    assert len(ids) == 52


def test_the_routes_are_described_in_openapi(web: TestClient, keys: Keys) -> None:
    schema = web.get("/openapi.json").json()
    paths = schema["paths"]
    assert set(paths[URL]) == {"get", "post"}
    assert set(paths[URL + "/{subject_request_id}"]) == {"get", "delete"}
    post = paths[URL]["post"]
    assert "erasure" in post["requestBody"]["content"]["application/json"]["examples"]
    assert {"201", "200", "409", "422", "401", "403"} <= set(post["responses"])
    assert "RequestIn" in schema["components"]["schemas"]


def test_retries_sent_at_once_file_one_request(
    web: TestClient, keys: Keys, fake: Faker, clock: Clock, staff: Staff
) -> None:
    body = dsr(fake, clock.now, kind="access", identity_verified=True)
    start = threading.Barrier(4)
    statuses: list[int] = []

    def send() -> None:
        start.wait()
        statuses.append(web.post(URL, json=body, headers=bearer(keys.writer)).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 200, 201]
    with staff.session_for() as session:
        request = staff.find(session, str(body["subject_request_id"]))
        assert service.verify_timeline(session, request) is None


def test_callback_addresses_fit_where_they_are_kept(
    web: TestClient, keys: Keys, fake: Faker, clock: Clock, staff: Staff
) -> None:
    long = [f"https://hooks{i}.example.id/" + "x" * 180 for i in range(3)]
    answer = web.post(URL, json=dsr(fake, clock.now, callbacks=long), headers=bearer(keys.writer))
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["status_callback_urls"]
    fits = [url[:150] for url in long]
    body = dsr(fake, clock.now, callbacks=fits)
    assert _file(web, keys, body)["status_callback_urls"] == fits
