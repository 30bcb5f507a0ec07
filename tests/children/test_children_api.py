"""The guardian API for organisations' own apps: a code sent through the outbox to a real SMTP
server, wrong codes counted and locked after five, expiry, single use, JSON problems, and the
child's event naming the verified guardian in a chain that verifies (Art. 25 UU PDP)."""

from __future__ import annotations

from typing import Any

from accounts_helpers import Clock
from children_helpers import audit_actions, code_in, events, ledger_intact, org_id, verifications
from consent_helpers import GELATO, bearer, make_key
from faker import Faker
from fastapi.testclient import TestClient
from notify_servers import RecordingSmtpServer
from sqlalchemy.orm import Session, sessionmaker

from jagadata.identities import identity_hash

MILLEALAB = "millealab"
START = f"/api/v1/orgs/{MILLEALAB}/guardians/verifications"
PURPOSE = "assessment_dashboard"


def _start(web: TestClient, key: str, guardian: str, **extra: Any) -> Any:
    body = {
        "child": {"kind": "reference", "value": "NIS-2026-0042"},
        "guardian": {"kind": "email", "value": guardian},
        "purposes": [PURPOSE],
        **extra,
    }
    return web.post(START, json=body, headers=bearer(key))


def _confirm(web: TestClient, key: str, verification: str, code: str, consent: bool = True) -> Any:
    return web.post(
        f"{START}/{verification}/confirm",
        json={"code": code, "decisions": [{"purpose": PURPOSE, "consent": consent}]},
        headers=bearer(key, **{"accept-language": "id"}),
    )


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_an_app_starts_a_verification_and_the_guardian_consents_with_the_emailed_code(
    web: TestClient,
    api_key: str,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    guardian = faker_id.free_email()
    started = _start(web, api_key, guardian)
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["status"] == "pending" and body["attempts_left"] == 5
    assert body["child_ref"] == identity_hash("reference", "NIS-2026-0042")
    assert body["guardian_ref"] == identity_hash("email", guardian)
    [email] = smtp_server.received
    assert email.recipients == [guardian]
    assert email.message["Content-Language"] == "id"

    confirmed = _confirm(web, api_key, body["id"], code_in(email))
    assert confirmed.status_code == 201, confirmed.text
    result = confirmed.json()
    assert result["status"] == "decided"
    own, child = result["events"]
    assert own["subject_ref"] == body["guardian_ref"] and not own["child"]
    assert child["subject_ref"] == body["child_ref"] and child["child"]
    assert child["guardian_ref"] == body["guardian_ref"]
    assert child["kind"] == "given" and child["receipt_id"]
    assert child["sequence"] == own["sequence"] + 1

    organisation = org_id(sessions_of, MILLEALAB)
    stored = events(sessions_of, organisation)
    assert [e.sequence for e in stored] == [own["sequence"], child["sequence"]]
    assert stored[1].prev_hash == stored[0].hash
    assert ledger_intact(sessions_of, organisation).ok
    assert audit_actions(sessions_of, organisation)[-3:] == [
        "guardian.verification_started",
        "guardian.verified",
        "guardian.consented",
    ]
    [verification] = verifications(sessions_of, organisation)
    assert verification.contact == guardian.lower()  # decrypted by the column type
    assert guardian not in verification.code_hash and len(verification.code_hash) == 64


def test_wrong_codes_are_counted_and_the_fifth_locks_even_the_right_code_out(
    web: TestClient,
    api_key: str,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    started = _start(web, api_key, faker_id.free_email()).json()
    code = code_in(smtp_server.received[0])
    for left in (4, 3, 2, 1):
        wrong = _confirm(web, api_key, started["id"], _wrong(code))
        assert wrong.status_code == 422
        assert wrong.json()["errors"] == [
            {"field": "code", "message": f"Kode salah. Sisa percobaan: {left}."}
        ]
    fifth = _confirm(web, api_key, started["id"], _wrong(code))
    assert fifth.status_code == 409
    assert "dikunci" in fifth.json()["errors"][0]["message"]
    right = _confirm(web, api_key, started["id"], code)
    assert right.status_code == 409
    status = web.get(f"{START}/{started['id']}", headers=bearer(api_key)).json()
    assert status["status"] == "locked" and status["attempts_left"] == 0
    organisation = org_id(sessions_of, MILLEALAB)
    assert events(sessions_of, organisation) == []
    actions = audit_actions(sessions_of, organisation)
    assert actions.count("guardian.code_refused") == 4 and actions[-1] == "guardian.locked"


def test_a_code_expires_after_thirty_minutes(
    web: TestClient,
    api_key: str,
    smtp_server: RecordingSmtpServer,
    clock: Clock,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    started = _start(web, api_key, faker_id.free_email()).json()
    clock.advance(minutes=30)
    late = _confirm(web, api_key, started["id"], code_in(smtp_server.received[0]))
    assert late.status_code == 409
    assert "kedaluwarsa" in late.json()["errors"][0]["message"]
    assert events(sessions_of, org_id(sessions_of, MILLEALAB)) == []


def test_a_code_just_before_expiry_still_works(
    web: TestClient, api_key: str, smtp_server: RecordingSmtpServer, clock: Clock, faker_id: Faker
) -> None:
    started = _start(web, api_key, faker_id.free_email()).json()
    clock.advance(minutes=29, seconds=59)
    assert (
        _confirm(web, api_key, started["id"], code_in(smtp_server.received[0])).status_code == 201
    )


def test_a_code_is_used_once(
    web: TestClient,
    api_key: str,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    started = _start(web, api_key, faker_id.free_email()).json()
    code = code_in(smtp_server.received[0])
    assert _confirm(web, api_key, started["id"], code).status_code == 201
    again = _confirm(web, api_key, started["id"], code, consent=False)
    assert again.status_code == 409
    assert "sudah dipakai" in again.json()["errors"][0]["message"]
    assert len(events(sessions_of, org_id(sessions_of, MILLEALAB))) == 2


def test_a_childs_consent_without_a_verified_guardian_is_refused_by_the_ledger(
    web: TestClient, api_key: str, sessions_of: sessionmaker[Session]
) -> None:
    """A direct attempt through the consent API, the child alone: refused, Art. 25."""
    direct = web.post(
        f"/api/v1/orgs/{MILLEALAB}/consent/events",
        json={
            "events": [
                {
                    "kind": "given",
                    "purpose": PURPOSE,
                    "subject": {"kind": "reference", "value": "NIS-2026-0042"},
                    "child": True,
                    "language": "id",
                    "channel": "web_form",
                }
            ]
        },
        headers=bearer(api_key),
    )
    assert direct.status_code == 422
    [error] = direct.json()["errors"]
    assert error["field"] == "events[0].guardian" and "Pasal 25" in error["message"]
    assert events(sessions_of, org_id(sessions_of, MILLEALAB)) == []


def test_the_service_refuses_decisions_before_the_code_is_verified(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    import pytest

    from jagadata.audit.service import Actor
    from jagadata.children import service
    from jagadata.children.models import Origin
    from jagadata.db import atomic
    from jagadata.orgs.service import get_organisation

    clock_now = web.app.state.clock()  # type: ignore[attr-defined]
    with sessions_of() as session:
        organisation = get_organisation(session=session, slug=MILLEALAB)
        assert organisation is not None
        with atomic(session):
            started = service.start_verification(
                session=session,
                organisation=organisation,
                child_ref=service.new_child_ref(),
                purposes=[PURPOSE],
                contact_kind="email",
                contact=faker_id.free_email(),
                lang="id",
                base_url="http://testserver",
                origin=Origin.WEB,
                actor=Actor.system("test"),
                now=clock_now,
            )
        with pytest.raises(service.GuardianProblem) as refused:
            service.record_decisions(
                session=session,
                organisation=organisation,
                verification=started.verification,
                decisions={PURPOSE: True},
                lang="id",
                base_url="http://testserver",
                now=clock_now,
            )
        session.rollback()
    assert refused.value.message == service.ART_25
    assert events(sessions_of, organisation.id) == []


def test_problems_are_json_documents_with_their_fields(
    web: TestClient, api_key: str, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    not_a_contact = _start(web, api_key, "bukan-email")
    assert not_a_contact.status_code == 422
    assert not_a_contact.json()["errors"][0]["field"] == "guardian.value"
    wrong_purpose = _start(web, api_key, faker_id.free_email(), purposes=["orders"])
    assert wrong_purpose.status_code == 422
    assert wrong_purpose.json()["errors"][0]["field"] == "purposes[0]"
    banner_only = _start(web, api_key, faker_id.free_email(), purposes=["personalisation"])
    assert banner_only.status_code == 422
    malformed = web.post(
        f"{START}/{'0' * 32}/confirm", json={"code": "12"}, headers=bearer(api_key)
    )
    assert malformed.status_code == 422
    assert {e["field"] for e in malformed.json()["errors"]} >= {"code", "decisions"}
    unknown = web.post(
        f"{START}/{'0' * 32}/confirm",
        json={"code": "123456", "decisions": [{"purpose": PURPOSE, "consent": True}]},
        headers=bearer(api_key),
    )
    assert unknown.status_code == 404 and unknown.json()["detail"]
    assert web.post(START, json={}, headers={}).status_code == 401


def test_another_organisations_key_finds_nothing(
    web: TestClient,
    api_key: str,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    started = _start(web, api_key, faker_id.free_email()).json()
    gelato = make_key(sessions_of, GELATO, ["consent:write"])
    assert _start(web, gelato, faker_id.free_email()).status_code == 404
    status = web.get(
        f"/api/v1/orgs/{GELATO}/guardians/verifications/{started['id']}", headers=bearer(gelato)
    )
    assert status.status_code == 404
    reader = make_key(sessions_of, MILLEALAB, ["consent:read"])
    assert _start(web, reader, faker_id.free_email()).status_code == 403


def test_a_sixth_code_to_one_contact_within_an_hour_is_refused_with_429(
    web: TestClient, api_key: str, smtp_server: RecordingSmtpServer, faker_id: Faker
) -> None:
    guardian = faker_id.free_email()
    for _ in range(5):
        assert _start(web, api_key, guardian).status_code == 201
    refused = _start(web, api_key, guardian)
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["field"] == "guardian.value"
    assert len(smtp_server.received) == 5


def test_a_guardian_counts_as_verified_for_a_child_only_after_the_code(
    web: TestClient,
    api_key: str,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    from jagadata.children.verified import guardian_verified

    started = _start(web, api_key, faker_id.free_email()).json()
    organisation = org_id(sessions_of, MILLEALAB)

    def verified(child_ref: str) -> bool:
        with sessions_of() as session:
            return guardian_verified(
                session=session,
                organisation_id=organisation,
                child_ref=child_ref,
                guardian_ref=started["guardian_ref"],
            )

    assert not verified(started["child_ref"])
    _confirm(web, api_key, started["id"], code_in(smtp_server.received[0]))
    assert verified(started["child_ref"])
    assert not verified(identity_hash("reference", "NIS-2026-9999"))
    with sessions_of() as session:
        other = org_id(sessions_of, GELATO)
        assert not guardian_verified(
            session=session,
            organisation_id=other,
            child_ref=started["child_ref"],
            guardian_ref=started["guardian_ref"],
        )
