"""The consent API: API keys and scopes (401, 403, 404 for another organisation), errors that
name the field, checks for one person or many, withdrawal, a person's history and ISO/IEC TS
27560 record — each write and each read of a person audited."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from consent_helpers import GELATO, MILLEALAB, Keys, bearer, email, event, organisation_id
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.models import AuditEntry

BASE = f"/api/v1/orgs/{GELATO}/consent"


def _audit(factory: sessionmaker[Session], slug: str) -> list[AuditEntry]:
    with factory() as session:
        session.info["all_organisations"] = True
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.organisation_id == organisation_id(factory, slug))
                .order_by(AuditEntry.sequence)
            )
        )


def _record(client: TestClient, keys: Keys, *events: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(
        f"{BASE}/events", json={"events": list(events)}, headers=bearer(keys.writer)
    )
    assert response.status_code == 201, response.text
    return list(response.json()["events"])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/events", {"events": []}),
        ("post", "/check", {"subject_ref": "anon_" + "a" * 20, "purpose": "marketing"}),
        ("post", "/withdraw", {"subject_ref": "anon_" + "a" * 20}),
        ("get", "/subjects/anon_aaaaaaaaaaaaaaaaaaaa/history", None),
        ("get", "/records/anon_aaaaaaaaaaaaaaaaaaaa", None),
        ("get", "/purposes", None),
    ],
)
def test_keys_and_scopes(
    client: TestClient, keys: Keys, method: str, path: str, body: dict[str, Any] | None
) -> None:
    call = getattr(client, method)
    kwargs = {"json": body} if body is not None else {}
    assert call(BASE + path, **kwargs).status_code == 401
    assert (
        call(BASE + path, headers=bearer("jd_000000000000_" + "x" * 43), **kwargs).status_code
        == 401
    )
    assert call(BASE + path, headers=bearer(keys.policy), **kwargs).status_code == 403
    other = call(f"/api/v1/orgs/{MILLEALAB}/consent{path}", headers=bearer(keys.writer), **kwargs)
    unknown = call(f"/api/v1/orgs/tidak-ada/consent{path}", headers=bearer(keys.writer), **kwargs)
    assert other.status_code == unknown.status_code == 404
    assert other.json() == unknown.json()
    writes = path in ("/events", "/withdraw")
    if writes:
        assert call(BASE + path, headers=bearer(keys.reader), **kwargs).status_code == 403


def test_errors_name_each_field_and_record_nothing(
    client: TestClient, keys: Keys, faker_id: Faker, sessions_of: sessionmaker[Session]
) -> None:
    good = event(email(faker_id))
    batch = [
        good,
        event(email(faker_id), purpose="orders"),
        event({"kind": "email", "value": "bukan-email"}),
        event(email(faker_id), channel="paper"),
        event(email(faker_id), evidence={"ip": "not-an-ip"}),
        event(email(faker_id), language="fr", notice_hash="0" * 64),
        {**event(email(faker_id)), "kind": "maybe"},
        {k: v for k, v in event(email(faker_id)).items() if k != "subject"},
    ]
    response = client.post(
        f"{BASE}/events",
        json={"events": batch},
        headers=bearer(keys.writer, **{"accept-language": "en"}),
    )
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["events[6].kind"]  # the schema is checked first, as a whole
    batch.pop()
    batch.pop()
    response = client.post(
        f"{BASE}/events",
        json={"events": batch},
        headers=bearer(keys.writer, **{"accept-language": "en"}),
    )
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(errors) == {
        "events[1].purpose",
        "events[2].subject.value",
        "events[3].channel",
        "events[3].evidence.scan_reference",
        "events[4].evidence.ip",
        "events[5].notice_hash",
    }
    assert "not a consent-based purpose" in errors["events[1].purpose"]
    assert "web_form, whatsapp, email_double_opt_in" in errors["events[3].channel"]
    assert "bukan-email" not in response.text
    indonesian = client.post(
        f"{BASE}/events",
        json={"events": batch},
        headers=bearer(keys.writer, **{"accept-language": "id"}),
    )
    assert "bukan tujuan" in indonesian.json()["errors"][0]["message"]
    too_many = client.post(
        f"{BASE}/events", json={"events": [good] * 1001}, headers=bearer(keys.writer)
    )
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "events"
    assert (
        client.post(f"{BASE}/events", content=b"{", headers=bearer(keys.writer)).status_code == 422
    )
    assert not [e for e in _audit(sessions_of, GELATO) if e.action.startswith("consent.")]


def test_recording_is_audited_in_the_same_transaction(
    client: TestClient, keys: Keys, faker_id: Faker, sessions_of: sessionmaker[Session]
) -> None:
    person = email(faker_id)
    events = _record(client, keys, event(person), event(person, "withdrawn"))
    entries = [e for e in _audit(sessions_of, GELATO) if e.action == "consent.recorded"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry.target_id == "1-2" and entry.subject_ref == events[0]["subject_ref"]
    assert entry.actor_kind == "api_key" and entry.details["kinds"] == {"given": 1, "withdrawn": 1}
    assert person["value"] not in repr(entry.details)


def test_checks_for_one_person_or_many(client: TestClient, keys: Keys, faker_id: Faker) -> None:
    given, refused = email(faker_id), email(faker_id)
    _record(client, keys, event(given), event(refused, "refused"))
    one = client.post(
        f"{BASE}/check",
        json={"subject": given, "purpose": "marketing"},
        headers=bearer(keys.reader),
    )
    assert one.status_code == 200
    [answer] = one.json()["results"]
    assert answer["allowed"] and answer["reason"] == "given" and answer["event"]["sequence"] == 1
    anonymous = "anon_" + faker_id.uuid4()
    many = client.post(
        f"{BASE}/check",
        json={
            "checks": [
                {"subject": refused, "purpose": "marketing"},
                {"subject_ref": anonymous, "purpose": "marketing"},
                {"subject": given, "purpose": "marketing"},
            ]
        },
        headers=bearer(keys.reader),
    )
    assert [(r["allowed"], r["reason"]) for r in many.json()["results"]] == [
        (False, "refused"),
        (False, "never_asked"),
        (True, "given"),
    ]
    wrong = client.post(
        f"{BASE}/check", json={"subject": given, "purpose": "orders"}, headers=bearer(keys.reader)
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "purpose"
    both = client.post(
        f"{BASE}/check",
        json={"subject": given, "subject_ref": anonymous, "purpose": "marketing"},
        headers=bearer(keys.reader),
    )
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "subject"


def test_withdrawal_of_every_purpose_and_the_history(
    client: TestClient, keys: Keys, faker_id: Faker, sessions_of: sessionmaker[Session]
) -> None:
    person = email(faker_id)
    [given] = _record(client, keys, event(person))
    ref = given["subject_ref"]
    withdrawn = client.post(
        f"{BASE}/withdraw",
        json={"subject": person, "channel": "whatsapp"},
        headers=bearer(keys.writer),
    )
    assert withdrawn.status_code == 201
    assert [(e["kind"], e["purpose"]) for e in withdrawn.json()["events"]] == [
        ("withdrawn", "marketing")
    ]
    nothing = client.post(
        f"{BASE}/withdraw", json={"subject_ref": ref}, headers=bearer(keys.writer)
    )
    assert nothing.status_code == 200 and nothing.json()["events"] == []
    check = client.post(
        f"{BASE}/check",
        json={"subject_ref": ref, "purpose": "marketing"},
        headers=bearer(keys.reader),
    )
    assert check.json()["results"][0]["reason"] == "withdrawn"

    history = client.get(f"{BASE}/subjects/{ref}/history", headers=bearer(keys.reader))
    assert history.status_code == 200
    assert [e["kind"] for e in history.json()["events"]] == ["given", "withdrawn"]
    actions = [(e.action, e.subject_ref) for e in _audit(sessions_of, GELATO)]
    assert ("consent.withdrawn", ref) in actions and ("person.viewed", ref) in actions
    resolved = client.post(
        f"{BASE}/subjects/resolve", json={"subject": person}, headers=bearer(keys.reader)
    )
    assert resolved.json() == {"subject_ref": ref}


def test_the_consent_record_follows_iso_27560(
    client: TestClient, keys: Keys, faker_id: Faker, sessions_of: sessionmaker[Session]
) -> None:
    person = email(faker_id)
    [given] = _record(client, keys, event(person))
    ref = given["subject_ref"]
    response = client.get(
        f"{BASE}/records/{ref}", headers=bearer(keys.reader, **{"accept-language": "en"})
    )
    assert response.status_code == 200
    record = response.json()
    assert record["schema"] == "ISO/IEC TS 27560:2023" and record["piiPrincipalId"] == ref
    for part in ("notice", "language", "purposes", "controller", "jurisdiction", "events"):
        assert record[part], part
    [marketing] = record["purposes"]
    assert marketing["id"] == "marketing" and marketing["legalBasis"]["basis"] == "consent"
    assert {c["id"] for c in marketing["dataCategories"]} == {"identity", "contact"}
    assert {r["id"] for r in marketing["recipients"]} == {"whatsapp", "email_provider"}
    assert {r["id"] for r in marketing["retention"]} >= {"marketing"}
    assert "unsubscribe_link" in marketing["withdrawal"]["channels"]
    assert marketing["status"]["allowed"] and marketing["consentText"].startswith("I agree")
    assert marketing["noticeHash"] == hashlib.sha256(marketing["consentText"].encode()).hexdigest()
    assert record["events"][0]["hash"] == given["hash"]
    assert record["events"][0]["noticeHash"] == given["notice_hash"]
    assert record["controller"]["name"] == "SIE YULYANI RN" and record["jurisdiction"] == "ID"
    assert person["value"] not in response.text
    assert ("person.viewed", ref) in [
        (e.action, e.subject_ref) for e in _audit(sessions_of, GELATO)
    ]


def test_the_purposes_give_texts_and_their_hashes(client: TestClient, keys: Keys) -> None:
    response = client.get(f"{BASE}/purposes", headers=bearer(keys.reader))
    assert response.status_code == 200
    [marketing] = response.json()["purposes"]
    assert marketing["purpose"] == "marketing" and set(marketing["texts"]) == {"id", "en", "fr"}
    for lang, text in marketing["texts"].items():
        assert hashlib.sha256(text.encode()).hexdigest() == marketing["notice_hashes"][lang]
