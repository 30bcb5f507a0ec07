"""Email double opt-in: the subscribe page and the API ask, a real email (through the outbox
and a local SMTP server) carries a signed, single-use, expiring link, and only the click on it
records consent (UU PDP Art. 20(2)(a), 22, 24)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from accounts_helpers import Clock
from consent_helpers import GELATO, bearer, make_key, organisation_id
from faker import Faker
from fastapi.testclient import TestClient
from optin_support import app_sessions, csrf_of, links_in, optin_app, outside, path_of, text_of, web
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from jagadata.consent.ledger import verify_ledger
from jagadata.consent.models import ConsentEvent
from jagadata.consent.state import check
from jagadata.i18n import gettext
from jagadata.identities import identity_hash

__all__ = ["app_sessions", "optin_app", "outside", "web"]

MARKETING_ID = (
    "Saya setuju menerima informasi produk baru, promosi, dan konten edukasi dari La Gelato "
    "Academy melalui email dan WhatsApp. Saya dapat menarik persetujuan ini kapan saja."
)


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "consent")


def _events(factory: sessionmaker[Session]) -> list[ConsentEvent]:
    with factory() as session:
        session.info["all_organisations"] = True
        return list(session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)))


def _reason(factory: sessionmaker[Session], email: str, clock: Clock) -> str:
    with factory() as session:
        answer = check(
            session=session,
            organisation_id=organisation_id(factory, GELATO),
            subject_ref=identity_hash("email", email),
            purpose="marketing",
            now=clock(),
        )
        return answer.reason.value


def _subscribe(web: TestClient, email: str, lang: str = "id") -> Any:
    page = web.get(f"/o/{GELATO}/subscribe?lang={lang}")
    assert page.status_code == 200
    return web.post(
        f"/o/{GELATO}/subscribe?lang={lang}",
        data={"csrf_token": csrf_of(page.text), "email": email, "purpose": ["marketing"]},
    )


def test_the_subscribe_page_shows_the_marketing_purposes_with_their_exact_texts(
    web: TestClient,
) -> None:
    page = web.get(f"/o/{GELATO}/subscribe", headers={"accept-language": "en"})
    assert page.status_code == 200
    assert 'lang="en"' in page.text
    assert "I agree to receive news of products, promotions and educational content" in page.text
    assert 'value="marketing"' in page.text
    assert 'value="analytics"' not in page.text  # not consent-based
    assert csrf_of(page.text)
    indonesian = web.get(f"/o/{GELATO}/subscribe?lang=id")
    assert " ".join(MARKETING_ID.split()) in " ".join(indonesian.text.split())


def test_consent_is_recorded_only_when_the_emailed_link_is_confirmed(
    web: TestClient,
    outside: Any,
    app_sessions: sessionmaker[Session],
    clock: Clock,
    faker_id: Faker,
) -> None:
    email = faker_id.unique.free_email()
    sent = _subscribe(web, email)
    assert sent.status_code == 202
    assert _reason(app_sessions, email, clock) == "never_asked"
    assert _events(app_sessions) == []

    [message] = outside.smtp.received
    assert message.recipients == [email]
    assert message.message["Content-Language"] == "id"
    body = text_of(message)
    assert "La Gelato Academy" in body
    assert "Pemasaran" in body or "pemasaran" in body.lower()
    assert " ".join(MARKETING_ID.split()) in " ".join(body.split())
    assert "Pasal 20 ayat (2) huruf a" in body
    confirm_url = next(u for u in links_in(message) if "/confirm/" in u)

    page = web.get(path_of(confirm_url))
    assert page.status_code == 200
    assert _events(app_sessions) == []  # opening the link (a mail scanner) records nothing

    done = web.post(
        path_of(confirm_url),
        data={"csrf_token": csrf_of(page.text)},
        headers={"user-agent": "Mozilla/5.0 (Linux; Android 14)"},
    )
    assert done.status_code == 200
    assert _reason(app_sessions, email, clock) == "given"
    [event] = _events(app_sessions)
    assert event.channel == "email_double_opt_in"
    assert event.kind == "given"
    assert event.language == "id"
    assert event.notice_hash == hashlib.sha256(MARKETING_ID.encode()).hexdigest()
    assert event.evidence["user_agent"] == "Mozilla/5.0 (Linux; Android 14)"
    assert event.evidence["reference"].startswith("opt-in ")
    assert "2026-11-23T09:00:07Z" in event.evidence["reference"]  # the pending record's time
    assert email not in str(event.evidence)
    assert f"/o/{GELATO}/receipts/{event.receipt_id}" in done.text

    receipt = web.get(f"/o/{GELATO}/receipts/{event.receipt_id}")
    assert receipt.status_code == 200
    receipt_mail = outside.smtp.received[1]
    assert f"/o/{GELATO}/receipts/{event.receipt_id}" in text_of(receipt_mail)
    # what the SMTP server received offers withdrawal in one click (RFC 2369, RFC 8058)
    assert str(receipt_mail.message["List-Unsubscribe"]).startswith("<http")
    assert str(receipt_mail.message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    with app_sessions() as session:
        result = verify_ledger(
            session=session, organisation_id=organisation_id(app_sessions, GELATO)
        )
        assert result.ok


def test_a_used_link_and_an_expired_link_record_nothing_and_say_so(
    web: TestClient,
    outside: Any,
    app_sessions: sessionmaker[Session],
    clock: Clock,
    faker_id: Faker,
) -> None:
    first, second = faker_id.unique.free_email(), faker_id.unique.free_email()
    _subscribe(web, first)
    _subscribe(web, second)
    used_url, expiring_url = (
        next(u for u in links_in(m) if "/confirm/" in u) for m in outside.smtp.received
    )
    page = web.get(path_of(used_url))
    token = csrf_of(page.text)
    assert web.post(path_of(used_url), data={"csrf_token": token}).status_code == 200
    again = web.post(path_of(used_url), data={"csrf_token": token})
    assert again.status_code == 410
    assert _t("id", "This link was already used") in again.text
    assert len(_events(app_sessions)) == 1

    clock.advance(hours=48, seconds=1)
    expired = web.get(path_of(expiring_url))
    assert expired.status_code == 410
    assert _t("id", "This link has expired") in expired.text
    refused = web.post(path_of(expiring_url), data={"csrf_token": token})
    assert refused.status_code == 410
    assert len(_events(app_sessions)) == 1
    assert _reason(app_sessions, second, clock) == "never_asked"

    forged = used_url.rsplit("/", 1)[0] + "/" + "A" * 32 + "." + "0" * 32
    assert web.get(path_of(forged)).status_code == 404


def test_tokens_and_contacts_are_not_stored_in_clear(
    web: TestClient, outside: Any, app_sessions: sessionmaker[Session], faker_id: Faker
) -> None:
    email = faker_id.unique.free_email()
    _subscribe(web, email)
    confirm_url = next(u for u in links_in(outside.smtp.received[0]) if "/confirm/" in u)
    token = confirm_url.rsplit("/", 1)[1]
    with app_sessions() as session:
        raw = [
            str(row)
            for table in ("consent_optin", "consent_link")
            for row in session.execute(text(f"SELECT * FROM {table}"))  # raw: no decryption
        ]
    dump = " ".join(raw)
    assert email not in dump
    assert token not in dump
    assert hashlib.sha256(token.encode()).hexdigest() in dump


def test_an_organisation_asks_by_api_and_gets_field_errors(
    web: TestClient, outside: Any, optin_app: Any, faker_id: Faker
) -> None:
    key = make_key(optin_app.state.sessions, GELATO, ["consent:read", "consent:write"])
    email = faker_id.unique.free_email()
    asked = web.post(
        f"/api/v1/orgs/{GELATO}/consent/opt-ins",
        json={"channel": "email", "contact": email, "purposes": ["marketing"], "language": "fr"},
        headers=bearer(key),
    )
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "pending"
    [message] = outside.smtp.received
    assert message.message["Content-Language"] == "fr"
    assert "J'accepte de recevoir" in " ".join(text_of(message).split())

    wrong = web.post(
        f"/api/v1/orgs/{GELATO}/consent/opt-ins",
        json={"channel": "email", "contact": "nope", "purposes": ["orders"]},
        headers=bearer(key, **{"accept-language": "en"}),
    )
    assert wrong.status_code == 422
    fields = {e["field"] for e in wrong.json()["errors"]}
    assert fields == {"contact", "purposes[0]"}
    assert len(outside.smtp.received) == 1
    anonymous = web.post(
        f"/api/v1/orgs/{GELATO}/consent/opt-ins",
        json={"channel": "email", "contact": email, "purposes": ["marketing"]},
    )
    assert anonymous.status_code == 401


def test_where_children_are_served_the_age_comes_first_and_a_child_goes_to_a_guardian(
    web: TestClient, outside: Any, app_sessions: sessionmaker[Session], faker_id: Faker
) -> None:
    from jagadata.manifest.loader import load_manifest_text
    from jagadata.orgs.service import add_organisation

    slug = "sekolah-es-krim"
    source = (
        Path(__file__).resolve().parents[2] / "examples" / "la-gelato-academy.yaml"
    ).read_text(encoding="utf-8")
    source = source.replace("slug: la-gelato-academy", f"slug: {slug}", 1)
    source = source.replace("  served: false", "  served: true", 1)
    with app_sessions() as session:
        add_organisation(session=session, loaded=load_manifest_text(source, file=f"{slug}.yaml"))

    page = web.get(f"/o/{slug}/subscribe?lang=id")
    assert page.status_code == 200
    assert 'name="age"' in page.text
    assert 'name="email"' not in page.text
    token = csrf_of(page.text)
    child = web.post(
        f"/o/{slug}/subscribe?lang=id",
        data={"csrf_token": token, "step": "age", "age": "12"},
        follow_redirects=False,
    )
    assert child.status_code == 303
    assert child.headers["location"] == f"/o/{slug}/guardian?purpose=marketing&lang=id"
    # a child cannot skip the question by posting the email form directly
    skipped = web.post(
        f"/o/{slug}/subscribe?lang=id",
        data={
            "csrf_token": token,
            "age": "12",
            "email": faker_id.free_email(),
            "purpose": "marketing",
        },
        follow_redirects=False,
    )
    assert skipped.status_code == 303
    assert outside.smtp.received == []
    adult = web.post(
        f"/o/{slug}/subscribe?lang=id", data={"csrf_token": token, "step": "age", "age": "30"}
    )
    assert adult.status_code == 200
    assert 'name="email"' in adult.text and 'value="30"' in adult.text
    sent = web.post(
        f"/o/{slug}/subscribe?lang=id",
        data={
            "csrf_token": token,
            "age": "30",
            "email": faker_id.unique.free_email(),
            "purpose": "marketing",
        },
    )
    assert sent.status_code == 202
    assert len(outside.smtp.received) == 1
    assert _events(app_sessions) == []


def test_lapsed_requests_are_deleted_after_30_days_and_the_ledger_stays(
    web: TestClient,
    outside: Any,
    app_sessions: sessionmaker[Session],
    clock: Clock,
    faker_id: Faker,
) -> None:
    from jagadata.consent.optin_sweep import sweep_optins

    confirmed, lapsed = faker_id.unique.free_email(), faker_id.unique.free_email()
    _subscribe(web, confirmed)
    _subscribe(web, lapsed)
    confirm_url = next(u for u in links_in(outside.smtp.received[0]) if "/confirm/" in u)
    page = web.get(path_of(confirm_url))
    web.post(path_of(confirm_url), data={"csrf_token": csrf_of(page.text)})
    with app_sessions() as session:
        assert sweep_optins(session=session, now=clock.advance(days=31)) == 0
        assert sweep_optins(session=session, now=clock.advance(days=1, seconds=1)) == 2
        assert session.execute(text("SELECT count(*) FROM consent_optin")).scalar_one() == 0
        remaining = session.execute(text("SELECT kind FROM consent_link")).scalars().all()
    assert remaining and set(remaining) == {"withdraw"}
    assert _reason(app_sessions, confirmed, clock) == "given"
    assert len(_events(app_sessions)) == 1


def test_no_one_is_flooded_with_confirmation_requests(
    web: TestClient, outside: Any, optin_app: Any, clock: Clock, faker_id: Faker
) -> None:
    key = make_key(optin_app.state.sessions, GELATO, ["consent:write"])
    email = faker_id.unique.free_email()
    body = {"channel": "email", "contact": email, "purposes": ["marketing"]}
    for _ in range(3):
        asked = web.post(f"/api/v1/orgs/{GELATO}/consent/opt-ins", json=body, headers=bearer(key))
        assert asked.status_code == 202
    refused = web.post(f"/api/v1/orgs/{GELATO}/consent/opt-ins", json=body, headers=bearer(key))
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) == 15 * 60
    assert refused.json()["errors"][0]["field"] == "contact"
    page = web.get(f"/o/{GELATO}/subscribe?lang=id")
    by_page = web.post(
        f"/o/{GELATO}/subscribe?lang=id",
        data={"csrf_token": csrf_of(page.text), "email": email, "purpose": "marketing"},
    )
    assert by_page.status_code == 429
    assert len(outside.smtp.received) == 3
    clock.advance(minutes=15, seconds=1)
    again = web.post(f"/api/v1/orgs/{GELATO}/consent/opt-ins", json=body, headers=bearer(key))
    assert again.status_code == 202
