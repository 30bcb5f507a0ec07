"""A retried batch never double-records: the same Idempotency-Key (or the same per-event keys)
returns the events recorded the first time, and a key reused for something else is refused."""

from __future__ import annotations

from consent_helpers import GELATO, Keys, bearer, cross_session, email, event, organisation_id
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jagadata.consent.ledger import ledger_length, verify_ledger

EVENTS = f"/api/v1/orgs/{GELATO}/consent/events"


def _length(factory: sessionmaker[Session]) -> int:
    with cross_session(factory) as session:
        return ledger_length(session=session, organisation_id=organisation_id(factory, GELATO))


def test_a_retried_batch_records_nothing_new(
    client: TestClient, keys: Keys, faker_id: Faker, sessions_of: sessionmaker[Session]
) -> None:
    batch = {"events": [event(email(faker_id)) for _ in range(3)]}
    headers = bearer(keys.writer, **{"Idempotency-Key": "batch-2026-11-23-001"})
    first = client.post(EVENTS, json=batch, headers=headers)
    assert first.status_code == 201 and not first.json()["replayed"]
    again = client.post(EVENTS, json=batch, headers=headers)
    assert again.status_code == 200 and again.json()["replayed"]
    strip = ("replayed",)
    assert [{k: v for k, v in e.items() if k not in strip} for e in again.json()["events"]] == [
        {k: v for k, v in e.items() if k not in strip} for e in first.json()["events"]
    ]
    assert all(e["replayed"] for e in again.json()["events"])
    assert _length(sessions_of) == 3

    other = {"events": [event(email(faker_id))]}
    conflict = client.post(EVENTS, json=other, headers=headers)
    assert conflict.status_code == 409
    assert conflict.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _length(sessions_of) == 3


def test_per_event_keys_return_the_first_events(
    client: TestClient, keys: Keys, faker_id: Faker, sessions_of: sessionmaker[Session]
) -> None:
    people = [email(faker_id) for _ in range(3)]
    keyed = [event(p, idempotency_key=f"form-{n}") for n, p in enumerate(people)]
    first = client.post(EVENTS, json={"events": keyed[:2]}, headers=bearer(keys.writer))
    assert first.status_code == 201
    retry = client.post(EVENTS, json={"events": keyed}, headers=bearer(keys.writer))
    assert retry.status_code == 201
    body = retry.json()["events"]
    assert [e["replayed"] for e in body] == [True, True, False]
    assert [e["sequence"] for e in body] == [1, 2, 3]
    assert [e["hash"] for e in body[:2]] == [e["hash"] for e in first.json()["events"]]
    all_again = client.post(EVENTS, json={"events": keyed}, headers=bearer(keys.writer))
    assert all_again.status_code == 200 and _length(sessions_of) == 3

    reused = event(email(faker_id), idempotency_key="form-0")
    refused = client.post(EVENTS, json={"events": [reused]}, headers=bearer(keys.writer))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "events[0].idempotency_key"
    twice = [
        event(email(faker_id), idempotency_key="x-1"),
        event(email(faker_id), idempotency_key="x-1"),
    ]
    refused = client.post(EVENTS, json={"events": twice}, headers=bearer(keys.writer))
    assert [e["field"] for e in refused.json()["errors"]] == ["events[1].idempotency_key"]
    with cross_session(sessions_of) as session:
        result = verify_ledger(
            session=session, organisation_id=organisation_id(sessions_of, GELATO)
        )
    assert result.ok and result.checked == 3


def test_a_key_with_personal_data_is_refused(
    client: TestClient, keys: Keys, faker_id: Faker
) -> None:
    address = faker_id.free_email()
    response = client.post(
        EVENTS,
        json={"events": [event(email(faker_id), idempotency_key=f"form-{address}")]},
        headers=bearer(keys.writer),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "events[0].idempotency_key"
    assert address not in response.text
