"""The public flow: the age first; a child is sent to a parent or guardian, whose code arrives
by email through the outbox (a real SMTP server), and only the verified guardian's decision is
recorded, with the child's event naming the guardian (Art. 25 UU PDP)."""

from __future__ import annotations

import logging
import re
from datetime import date

import pytest
from accounts_helpers import Clock
from children_helpers import (
    audit_actions,
    code_in,
    events,
    grant_of,
    ledger_intact,
    link_in,
    org_id,
    submit,
    verifications,
)
from faker import Faker
from fastapi.testclient import TestClient
from notify_servers import RecordingSmtpServer
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from whatsapp_cloud_fake import WhatsAppCloudFake

from jagadata.i18n import gettext
from jagadata.identities import identity_hash

MILLEALAB = "millealab"
GELATO = "la-gelato-academy"
BASE = f"/o/{MILLEALAB}"


def _c(lang: str, message: str) -> str:
    return gettext(lang, message, "children")


def _child_to_guardian(web: TestClient, purpose: str = "assessment_dashboard") -> str:
    """A child answers the age question; returns where they are sent."""
    start = web.get(f"{BASE}/consent?lang=id&purpose={purpose}")
    assert start.status_code == 200
    sent = submit(web, start, f"{BASE}/consent?lang=id", age="12", purpose=purpose)
    assert sent.status_code == 303
    return str(sent.headers["location"])


def test_a_child_is_sent_to_a_guardian_whose_consent_is_recorded_with_the_childs_event(
    web: TestClient,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    where = _child_to_guardian(web)
    assert where == f"{BASE}/guardian?purpose=assessment_dashboard&lang=id"
    page = web.get(where)
    assert page.status_code == 200
    assert "Pasal 25" in page.text
    guardian = faker_id.free_email()
    sent = submit(
        web,
        page,
        f"{BASE}/guardian?lang=id",
        kind="email",
        contact=guardian,
        purpose="assessment_dashboard",
        child="",
    )
    assert sent.status_code == 303
    code_page = web.get(sent.headers["location"])
    assert code_page.status_code == 200

    [email] = smtp_server.received
    assert email.recipients == [guardian]
    code = code_in(email)
    assert link_in(email).startswith(f"http://testserver{BASE}/guardian/")
    assert sent.headers["location"].split("?")[0] in link_in(email)

    decide = submit(web, code_page, sent.headers["location"], code=code)
    assert decide.status_code == 200
    assert "Sebagai orang tua atau wali, saya setuju MilleaLab memproses" in decide.text
    action = sent.headers["location"].split("?")[0] + "/consent?lang=id"
    done = submit(
        web, decide, action, grant=grant_of(decide), **{"consent:assessment_dashboard": "yes"}
    )
    assert done.status_code == 200
    assert _c("id", "consent given") in done.text
    assert "/receipts/" in done.text

    organisation = org_id(sessions_of, MILLEALAB)
    [verification] = verifications(sessions_of, organisation)
    guardian_ref = identity_hash("email", guardian)
    assert verification.guardian_ref == guardian_ref
    assert verification.verified_at is not None and verification.decided_at is not None
    own, child = events(sessions_of, organisation)
    assert (own.subject_ref, own.child, own.guardian_ref) == (guardian_ref, False, None)
    assert child.child and child.guardian_ref == guardian_ref
    assert child.subject_ref == verification.child_ref and child.subject_ref.startswith("anon_")
    assert child.kind == own.kind == "given"
    assert child.channel == "web_form" and child.language == "id"
    assert child.manifest_version == verification.manifest_version
    assert ledger_intact(sessions_of, organisation).ok
    actions = audit_actions(sessions_of, organisation)
    assert actions[-3:] == [
        "guardian.verification_started",
        "guardian.verified",
        "guardian.consented",
    ]
    # the guardian receives the child's receipt too
    receipt_mail = smtp_server.received[-1]
    assert receipt_mail.recipients == [guardian]
    receipt_text = receipt_mail.message.get_body(("plain",))
    assert receipt_text is not None and child.receipt_id
    assert child.receipt_id in receipt_text.get_content()

    again = submit(
        web, decide, action, grant=grant_of(decide), **{"consent:assessment_dashboard": "no"}
    )
    assert again.status_code == 403
    assert len(events(sessions_of, organisation)) == 2


def test_the_guardian_refuses_and_the_refusal_is_recorded_without_a_receipt(
    web: TestClient,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    page = web.get(_child_to_guardian(web))
    sent = submit(
        web,
        page,
        f"{BASE}/guardian?lang=id",
        kind="email",
        contact=faker_id.free_email(),
        purpose="assessment_dashboard",
        child="",
    )
    location = sent.headers["location"]
    decide = submit(web, web.get(location), location, code=code_in(smtp_server.received[0]))
    done = submit(
        web,
        decide,
        location.split("?")[0] + "/consent?lang=id",
        grant=grant_of(decide),
        **{"consent:assessment_dashboard": "no"},
    )
    assert done.status_code == 200
    assert _c("id", "consent refused") in done.text
    kinds = [
        (e.kind, e.child, e.receipt_id) for e in events(sessions_of, org_id(sessions_of, MILLEALAB))
    ]
    assert kinds == [("refused", False, None), ("refused", True, None)]
    assert len(smtp_server.received) == 1  # no receipt for a refusal


def test_a_birth_date_under_the_minimum_age_goes_to_the_guardian(
    web: TestClient, clock: Clock
) -> None:
    start = web.get(f"{BASE}/consent?lang=id")
    born = date(clock.now.year - 17, 1, 1).isoformat()
    sent = submit(web, start, f"{BASE}/consent?lang=id", birth_date=born, purpose="")
    assert sent.headers["location"] == f"{BASE}/guardian?lang=id"


def test_the_age_question_refuses_nonsense_in_the_visitors_language(web: TestClient) -> None:
    start = web.get(f"{BASE}/consent?lang=fr")
    sent = submit(web, start, f"{BASE}/consent?lang=fr", age="abc", purpose="")
    assert sent.status_code == 422
    assert _c("fr", "Give your date of birth, or your age in years (0 to 120).") in sent.text


def test_a_consent_form_sent_without_a_verified_guardian_is_refused_citing_art_25(
    web: TestClient,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    page = web.get(_child_to_guardian(web))
    sent = submit(
        web,
        page,
        f"{BASE}/guardian?lang=id",
        kind="phone" if False else "email",
        contact=faker_id.free_email(),
        purpose="assessment_dashboard",
        child="",
    )
    location = sent.headers["location"]
    code_page = web.get(location)
    forged = submit(
        web,
        code_page,
        location.split("?")[0] + "/consent?lang=id",
        grant="tebakan",
        **{"consent:assessment_dashboard": "yes"},
    )
    assert forged.status_code == 403
    assert "Pasal 25 UU PDP" in forged.text
    assert events(sessions_of, org_id(sessions_of, MILLEALAB)) == []


def test_an_adult_goes_straight_to_the_consent_form_and_records_on_the_web_form(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    # La Gelato Academy does not serve children: no age question
    first = web.get(f"/o/{GELATO}/consent?lang=id", follow_redirects=False)
    assert first.status_code == 303
    form = web.get(first.headers["location"])
    assert form.status_code == 200
    person = faker_id.free_email()
    done = submit(
        web,
        form,
        f"/o/{GELATO}/consent/form?lang=id",
        age="",
        kind="email",
        contact=person,
        **{"consent:marketing": "yes"},
    )
    assert done.status_code == 200, done.text
    [event] = events(sessions_of, org_id(sessions_of, GELATO))
    assert (event.kind, event.channel, event.child) == ("given", "web_form", False)
    assert event.subject_ref == identity_hash("email", person)


def test_an_adult_at_millealab_answers_the_age_and_is_not_sent_to_a_guardian(
    web: TestClient,
) -> None:
    start = web.get(f"{BASE}/consent?lang=id")
    sent = submit(web, start, f"{BASE}/consent?lang=id", age="18", purpose="")
    assert sent.headers["location"] == f"{BASE}/consent/form?age=18&lang=id"


def test_a_child_who_claims_an_adults_form_directly_is_refused(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    form = web.get(f"/o/{GELATO}/consent/form?lang=id")
    # MilleaLab's adult form takes the age the question gave; 12 is refused with Art. 25
    sent = submit(
        web,
        form,
        f"{BASE}/consent/form?lang=id",
        age="12",
        kind="email",
        contact=faker_id.free_email(),
    )
    assert sent.status_code == 403
    assert "Pasal 25 UU PDP" in sent.text
    assert events(sessions_of, org_id(sessions_of, MILLEALAB)) == []


def test_a_guardian_reached_on_whatsapp_gets_the_code_there(
    web: TestClient,
    whatsapp_cloud: WhatsAppCloudFake,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
) -> None:
    page = web.get(_child_to_guardian(web))
    sent = submit(
        web,
        page,
        f"{BASE}/guardian?lang=id",
        kind="phone",
        contact="0812-0000-4321",
        purpose="assessment_dashboard",
        child="",
    )
    assert sent.status_code == 303
    [message] = whatsapp_cloud.accepted
    assert message.body["to"] == "6281200004321"
    text = message.body["text"]["body"]
    assert "Pasal 25 UU PDP" in text and sent.headers["location"].split("?")[0] in text
    code = re.search(r"\b(\d{6})\b", text)
    assert code is not None
    location = sent.headers["location"]
    decide = submit(web, web.get(location), location, code=code.group(1))
    assert decide.status_code == 200
    done = submit(
        web,
        decide,
        location.split("?")[0] + "/consent?lang=id",
        grant=grant_of(decide),
        **{"consent:assessment_dashboard": "yes"},
    )
    assert done.status_code == 200
    own, child = events(sessions_of, org_id(sessions_of, MILLEALAB))
    assert own.subject_ref == identity_hash("phone", "+62 812 0000 4321")
    assert child.guardian_ref == own.subject_ref
    assert len(whatsapp_cloud.accepted) == 2  # the receipt follows on WhatsApp
    assert smtp_server.received == []


def test_an_expired_or_locked_code_page_says_so_and_offers_a_new_code(
    web: TestClient, smtp_server: RecordingSmtpServer, clock: Clock, faker_id: Faker
) -> None:
    page = web.get(_child_to_guardian(web))
    sent = submit(
        web,
        page,
        f"{BASE}/guardian?lang=id",
        kind="email",
        contact=faker_id.free_email(),
        purpose="assessment_dashboard",
        child="",
    )
    location = sent.headers["location"]
    code = code_in(smtp_server.received[0])
    wrong = submit(web, web.get(location), location, code=f"{(int(code) + 1) % 10**6:06d}")
    assert wrong.status_code == 422
    assert "Sisa percobaan: 4" in wrong.text
    form = web.get(location)
    clock.advance(minutes=31)
    expired = _c("id", "This code has expired. Ask again for a new code.")
    shown = web.get(location)
    assert expired in shown.text and 'name="code"' not in shown.text
    assert f'href="{BASE}/guardian?purpose=assessment_dashboard&amp;lang=id"' in shown.text
    late = submit(web, form, location, code=code)  # the form was open before it expired
    assert late.status_code == 422
    assert expired in late.text
    assert "Sebagai orang tua" not in late.text


def test_codes_to_one_contact_are_limited_per_hour(
    web: TestClient, smtp_server: RecordingSmtpServer, clock: Clock, faker_id: Faker
) -> None:
    guardian = faker_id.free_email()
    for _ in range(5):
        page = web.get(f"{BASE}/guardian?purpose=assessment_dashboard&lang=id")
        sent = submit(
            web,
            page,
            f"{BASE}/guardian?lang=id",
            kind="email",
            contact=guardian,
            purpose="assessment_dashboard",
            child="",
        )
        assert sent.status_code == 303
    page = web.get(f"{BASE}/guardian?purpose=assessment_dashboard&lang=id")
    refused = submit(
        web,
        page,
        f"{BASE}/guardian?lang=id",
        kind="email",
        contact=guardian,
        purpose="assessment_dashboard",
        child="",
    )
    assert refused.status_code == 422
    assert "dalam satu jam terakhir" in refused.text
    assert len(smtp_server.received) == 5
    clock.advance(hours=1, seconds=1)
    page = web.get(f"{BASE}/guardian?purpose=assessment_dashboard&lang=id")
    later = submit(
        web,
        page,
        f"{BASE}/guardian?lang=id",
        kind="email",
        contact=guardian,
        purpose="assessment_dashboard",
        child="",
    )
    assert later.status_code == 303


def test_the_contact_and_the_code_are_not_stored_in_clear(
    web: TestClient,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    guardian = faker_id.free_email()
    page = web.get(f"{BASE}/guardian?purpose=assessment_dashboard&lang=id")
    submit(
        web,
        page,
        f"{BASE}/guardian?lang=id",
        kind="email",
        contact=guardian,
        purpose="assessment_dashboard",
        child="",
    )
    code = code_in(smtp_server.received[0])
    with sessions_of() as session:
        [row] = session.execute(text("SELECT * FROM guardian_verification")).mappings().all()
    stored = " ".join(str(value) for value in row.values())
    assert guardian.lower() not in stored.lower()
    assert guardian.split("@")[0].lower() not in stored.lower()
    assert code not in str(row["code_hash"])
    assert row["contact"] != guardian


def test_no_log_line_or_audit_entry_holds_the_contact_or_the_code(
    web: TestClient,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    guardian = faker_id.free_email()
    with caplog.at_level(logging.DEBUG):
        page = web.get(_child_to_guardian(web))
        sent = submit(
            web,
            page,
            f"{BASE}/guardian?lang=id",
            kind="email",
            contact=guardian,
            purpose="assessment_dashboard",
            child="",
        )
        location = sent.headers["location"]
        code = code_in(smtp_server.received[0])
        decide = submit(web, web.get(location), location, code=code)
        submit(
            web,
            decide,
            location.split("?")[0] + "/consent?lang=id",
            grant=grant_of(decide),
            **{"consent:assessment_dashboard": "yes"},
        )
    ours = [r for r in caplog.records if r.name.startswith(("jagadata", "huey", "uvicorn"))]
    assert ours, "no log line of jagadata was captured"
    logged = " ".join(r.getMessage() for r in ours).lower()
    assert guardian.lower() not in logged and code not in logged
    with sessions_of() as session:
        rows = session.execute(text("SELECT details, ip, user_agent FROM audit_entry")).all()
    trail = " ".join(str(value) for row in rows for value in row).lower()
    assert guardian.lower() not in trail and guardian.split("@")[0].lower() not in trail
    assert code not in trail


def test_a_child_the_organisation_already_knows_keeps_its_reference(
    web: TestClient,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    known = identity_hash("reference", "NIS-2026-0042")
    page = web.get(f"{BASE}/guardian?purpose=assessment_dashboard&child={known}&lang=fr")
    assert "art. 25" in page.text and f'value="{known}"' in page.text
    sent = submit(
        web,
        page,
        f"{BASE}/guardian?lang=fr",
        kind="email",
        contact=faker_id.free_email(),
        purpose="assessment_dashboard",
        child=known,
    )
    assert sent.status_code == 303
    [email] = smtp_server.received
    assert email.message["Content-Language"] == "fr"
    [verification] = verifications(sessions_of, org_id(sessions_of, MILLEALAB))
    assert verification.child_ref == known and verification.language == "fr"
