"""Opt-in by WhatsApp: the request goes out as a template through the outbox to a local server
speaking the Cloud API; the webhook (verified with Meta's handshake and X-Hub-Signature-256)
records consent on YA and withdraws it on BERHENTI/STOP, once per message id."""

from __future__ import annotations

from accounts_helpers import Clock
from consent_helpers import GELATO, bearer, make_key, organisation_id
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from optin_support import (
    Outside,
    app_sessions,
    optin_app,
    outside,
    signed_post,
    web,
    whatsapp_delivery,
)
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from jagadata.consent.ledger import verify_ledger
from jagadata.consent.models import ConsentEvent
from jagadata.consent.state import check
from jagadata.identities import identity_hash, normalise_phone

__all__ = ["app_sessions", "optin_app", "outside", "web"]


def _phone(faker: Faker) -> str:
    """A generated Indonesian mobile number (E.164 digits, as WhatsApp sends `from`)."""
    return normalise_phone("0812" + str(faker.random_number(digits=8, fix_len=True))).lstrip("+")


def _events(factory: sessionmaker[Session]) -> list[ConsentEvent]:
    with factory() as session:
        session.info["all_organisations"] = True
        return list(session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)))


def _reason(factory: sessionmaker[Session], phone: str, clock: Clock) -> str:
    with factory() as session:
        return check(
            session=session,
            organisation_id=organisation_id(factory, GELATO),
            subject_ref=identity_hash("phone", "+" + phone),
            purpose="marketing",
            now=clock(),
        ).reason.value


def _ask(web: TestClient, app: FastAPI, phone: str, language: str = "id") -> str:
    key = make_key(app.state.sessions, GELATO, ["consent:write"])
    asked = web.post(
        f"/api/v1/orgs/{GELATO}/consent/opt-ins",
        json={
            "channel": "whatsapp",
            "contact": "+" + phone,
            "purposes": ["marketing"],
            "language": language,
        },
        headers=bearer(key),
    )
    assert asked.status_code == 202, asked.text
    return asked.text


def test_meta_verification_echoes_the_challenge_only_for_the_right_token(
    web: TestClient, outside: Outside
) -> None:
    good = web.get(
        "/api/v1/whatsapp/webhook",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": outside.verify_token,
            "hub.challenge": "1158201444",
        },
    )
    assert good.status_code == 200
    assert good.text == "1158201444"
    bad = web.get(
        "/api/v1/whatsapp/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": "tebakan", "hub.challenge": "1"},
    )
    assert bad.status_code == 403


def test_a_yes_reply_records_consent_once_and_stop_withdraws_it(
    web: TestClient,
    optin_app: FastAPI,
    outside: Outside,
    app_sessions: sessionmaker[Session],
    clock: Clock,
    faker_id: Faker,
) -> None:
    phone = _phone(faker_id)
    _ask(web, optin_app, phone)
    [template] = outside.whatsapp.accepted
    assert template.body["type"] == "template"
    assert template.body["to"] == phone
    assert template.body["template"]["name"] == "jagadata_optin"
    assert template.body["template"]["language"] == {"code": "id"}
    parameters = [p["text"] for p in template.body["template"]["components"][0]["parameters"]]
    assert parameters[0] == "La Gelato Academy"
    assert parameters[1].startswith("Saya setuju menerima informasi produk baru")
    assert _events(app_sessions) == []

    _wamid, document = whatsapp_delivery(phone, "Ya", context=template.wamid)
    unsigned = web.post("/api/v1/whatsapp/webhook", json=document)
    assert unsigned.status_code == 401
    forged = web.post(
        "/api/v1/whatsapp/webhook", json=document, headers={"x-hub-signature-256": "sha256=00"}
    )
    assert forged.status_code == 401
    assert _events(app_sessions) == []

    answer = signed_post(web, outside.app_secret, document)
    assert answer.status_code == 200
    assert answer.json()["handled"] == ["confirmed"]
    assert _reason(app_sessions, phone, clock) == "given"
    [event] = _events(app_sessions)
    assert event.channel == "whatsapp"
    assert event.language == "id"
    reply = outside.whatsapp.accepted[-1].body
    assert reply["type"] == "text"
    assert reply["to"] == phone
    assert f"/r/{event.receipt_id}" in reply["text"]["body"]
    assert "BERHENTI" in reply["text"]["body"]

    retried = signed_post(web, outside.app_secret, document)  # WhatsApp retries the delivery
    assert retried.status_code == 200
    assert retried.json()["handled"] == ["duplicate"]
    assert len(_events(app_sessions)) == 1
    assert len(outside.whatsapp.accepted) == 2

    _stop_id, stop = whatsapp_delivery(phone, "BERHENTI")
    stopped = signed_post(web, outside.app_secret, stop)
    assert stopped.json()["handled"] == ["withdrawn"]
    assert _reason(app_sessions, phone, clock) == "withdrawn"
    kinds = [e.kind for e in _events(app_sessions)]
    assert kinds == ["given", "withdrawn"]
    confirmation = outside.whatsapp.accepted[-1].body["text"]["body"]
    assert "3 x 24" in confirmation
    assert "Pasal 9 dan 40 UU PDP" in confirmation
    assert signed_post(web, outside.app_secret, stop).json()["handled"] == ["duplicate"]
    assert len(_events(app_sessions)) == 2
    from jagadata.consent.optin_sweep import sweep_optins

    with app_sessions() as session:
        sweep_optins(session=session, now=clock.advance(days=29))
        assert session.execute(text("SELECT count(*) FROM whatsapp_inbound")).scalar_one() == 2
        sweep_optins(session=session, now=clock.advance(days=1, seconds=1))
        assert session.execute(text("SELECT count(*) FROM whatsapp_inbound")).scalar_one() == 0
    with app_sessions() as session:
        assert verify_ledger(
            session=session, organisation_id=organisation_id(app_sessions, GELATO)
        ).ok


def test_the_template_buttons_confirm_and_stop(
    web: TestClient,
    optin_app: FastAPI,
    outside: Outside,
    app_sessions: sessionmaker[Session],
    clock: Clock,
    faker_id: Faker,
) -> None:
    phone = _phone(faker_id)
    _ask(web, optin_app, phone, language="en")
    _id, yes = whatsapp_delivery(phone, button="JAGADATA_OPTIN_YES")
    assert signed_post(web, outside.app_secret, yes).json()["handled"] == ["confirmed"]
    assert _events(app_sessions)[0].language == "en"
    _id, stop = whatsapp_delivery(phone, button="STOP")
    assert signed_post(web, outside.app_secret, stop).json()["handled"] == ["withdrawn"]
    assert _reason(app_sessions, phone, clock) == "withdrawn"
    assert "3 x 24 hours" in outside.whatsapp.accepted[-1].body["text"]["body"]


def test_a_reply_without_a_request_or_after_it_expired_records_nothing(
    web: TestClient,
    optin_app: FastAPI,
    outside: Outside,
    app_sessions: sessionmaker[Session],
    clock: Clock,
    faker_id: Faker,
) -> None:
    phone = _phone(faker_id)
    _id, early = whatsapp_delivery(phone, "YES")
    assert signed_post(web, outside.app_secret, early).json()["handled"] == ["no_request"]
    _ask(web, optin_app, phone)
    clock.advance(hours=49)
    _id, late = whatsapp_delivery(phone, "ya")
    assert signed_post(web, outside.app_secret, late).json()["handled"] == ["no_request"]
    _id, chatter = whatsapp_delivery(phone, "Halo, jam buka toko?")
    assert signed_post(web, outside.app_secret, chatter).json()["handled"] == ["ignored"]
    assert _events(app_sessions) == []


def test_the_same_message_handled_twice_at_once_is_recorded_once(
    web: TestClient,
    optin_app: FastAPI,
    outside: Outside,
    app_sessions: sessionmaker[Session],
    clock: Clock,
    faker_id: Faker,
) -> None:
    import threading

    from jagadata.consent.inbound import handle, messages_of

    phone = _phone(faker_id)
    _ask(web, optin_app, phone)
    _id, document = whatsapp_delivery(phone, "YA")
    [message] = messages_of(document)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def deliver() -> None:
        start.wait()
        outcomes.append(
            handle(
                sessions=app_sessions,
                settings=optin_app.state.settings,
                message=message,
                now=clock(),
            )
        )

    workers = [threading.Thread(target=deliver) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(outcomes) == ["confirmed", "duplicate"]
    assert [e.kind for e in _events(app_sessions)] == ["given"]
