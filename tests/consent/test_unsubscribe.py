"""Withdrawal in one click (UU PDP Art. 9, 40): every consent email carries List-Unsubscribe and
List-Unsubscribe-Post (RFC 8058) and a visible link; the one-click POST needs no CSRF token or
cookie, the page needs one press, and an organisation gets signed links for its own messages."""

from __future__ import annotations

from typing import Any

from accounts_helpers import Clock
from consent_helpers import GELATO, bearer, event, make_key, organisation_id
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from optin_support import (
    Outside,
    app_sessions,
    csrf_of,
    links_in,
    optin_app,
    outside,
    path_of,
    web,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.config import get_settings
from jagadata.consent.ledger import verify_ledger
from jagadata.consent.models import ConsentEvent
from jagadata.consent.state import check
from jagadata.i18n import gettext
from jagadata.identities import identity_hash
from jagadata.notify.channels.email import build_email
from jagadata.notify.models import OutboxMessage

__all__ = ["app_sessions", "optin_app", "outside", "web"]


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "consent")


def _reason(factory: sessionmaker[Session], email: str, clock: Clock) -> str:
    with factory() as session:
        return check(
            session=session,
            organisation_id=organisation_id(factory, GELATO),
            subject_ref=identity_hash("email", email),
            purpose="marketing",
            now=clock(),
        ).reason.value


def _kinds(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        session.info["all_organisations"] = True
        return list(session.scalars(select(ConsentEvent.kind).order_by(ConsentEvent.id)))


def _subscribed(web: TestClient, outside: Outside, email: str) -> None:
    page = web.get(f"/o/{GELATO}/subscribe?lang=id")
    web.post(
        f"/o/{GELATO}/subscribe?lang=id",
        data={"csrf_token": csrf_of(page.text), "email": email, "purpose": "marketing"},
    )
    confirm_url = next(u for u in links_in(outside.smtp.received[-1]) if "/confirm/" in u)
    confirm = web.get(path_of(confirm_url))
    done = web.post(path_of(confirm_url), data={"csrf_token": csrf_of(confirm.text)})
    assert done.status_code == 200


def _sent_with_headers(factory: sessionmaker[Session]) -> list[Any]:
    """Every consent email in the outbox, built exactly as the channel builds it."""
    built = []
    with factory() as session:
        session.info["all_organisations"] = True
        for row in session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == "email").order_by(OutboxMessage.id)
        ):
            built.append(
                build_email(
                    settings=get_settings(),
                    message_id=row.message_id,
                    to=row.recipient,
                    subject=row.payload["subject"],
                    text=row.payload["text"],
                    html=row.payload.get("html"),
                    lang=row.payload["lang"],
                    date=row.created_at,
                    headers=row.payload.get("headers"),
                )
            )
    return built


def test_every_consent_email_carries_rfc_8058_headers_and_a_visible_link(
    web: TestClient, outside: Outside, app_sessions: sessionmaker[Session], faker_id: Faker
) -> None:
    _subscribed(web, outside, faker_id.unique.free_email())
    delivered = outside.smtp.received
    assert len(delivered) == 2  # the confirmation request, then the receipt
    for message in delivered:
        links = links_in(message)
        assert any(f"/o/{GELATO}/unsubscribe/" in u for u in links)
    built = _sent_with_headers(app_sessions)
    assert len(built) == 2
    for message in built:
        header = str(message["List-Unsubscribe"])
        assert header.startswith(f"<http://testserver/api/v1/orgs/{GELATO}/consent/unsubscribe/")
        assert header.endswith(">")
        assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"


def test_the_one_click_post_withdraws_without_csrf_or_cookies(
    web: TestClient,
    optin_app: FastAPI,
    outside: Outside,
    app_sessions: sessionmaker[Session],
    clock: Clock,
    faker_id: Faker,
) -> None:
    email = faker_id.unique.free_email()
    _subscribed(web, outside, email)
    message = _sent_with_headers(app_sessions)[-1]  # the receipt
    target = str(message["List-Unsubscribe"]).strip("<>")
    with TestClient(optin_app, base_url="http://testserver") as mail_client:  # no cookies
        clicked = mail_client.post(
            path_of(target),
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert clicked.status_code == 200, clicked.text
        assert clicked.json()["withdrawn"] == ["marketing"]
        assert clicked.json()["processing_stops_by"].startswith("2026-11-26T09:00:07")
        assert _reason(app_sessions, email, clock) == "withdrawn"
        again = mail_client.post(
            path_of(target),
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert again.json()["withdrawn"] == []
    assert _kinds(app_sessions) == ["given", "withdrawn"]
    with app_sessions() as session:
        assert verify_ledger(
            session=session, organisation_id=organisation_id(app_sessions, GELATO)
        ).ok


def test_the_withdrawal_page_withdraws_with_one_press_and_says_when_processing_stops(
    web: TestClient,
    outside: Outside,
    app_sessions: sessionmaker[Session],
    clock: Clock,
    faker_id: Faker,
) -> None:
    email = faker_id.unique.free_email()
    _subscribed(web, outside, email)
    url = next(u for u in links_in(outside.smtp.received[-1]) if "/unsubscribe/" in u)
    page = web.get(path_of(url))
    assert page.status_code == 200
    assert _reason(app_sessions, email, clock) == "given"  # opening the page changes nothing
    assert _t("id", "Withdraw my consent") in page.text
    pressed = web.post(
        f"/api/v1/orgs/{GELATO}/consent/unsubscribe/{url.rsplit('/', 1)[1]}",
        data={"confirm": "1"},
        follow_redirects=True,
    )
    assert pressed.status_code == 200
    assert _t("id", "Your consent is withdrawn") in pressed.text
    assert "72" in pressed.text and "40" in pressed.text
    assert _reason(app_sessions, email, clock) == "withdrawn"
    unknown = web.post(
        f"/api/v1/orgs/{GELATO}/consent/unsubscribe/{'B' * 32}.{'1' * 32}",
        data={"List-Unsubscribe": "One-Click"},
    )
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["field"] == "token"


def test_an_organisation_gets_signed_withdrawal_links_for_its_own_messages(
    web: TestClient,
    optin_app: FastAPI,
    app_sessions: sessionmaker[Session],
    clock: Clock,
    faker_id: Faker,
) -> None:
    key = make_key(optin_app.state.sessions, GELATO, ["consent:read", "consent:write"])
    person = {"kind": "email", "value": faker_id.unique.free_email()}
    recorded = web.post(
        f"/api/v1/orgs/{GELATO}/consent/events",
        json={"events": [event(person)]},
        headers=bearer(key),
    )
    assert recorded.status_code == 201, recorded.text
    made = web.post(
        f"/api/v1/orgs/{GELATO}/consent/withdrawal-links",
        json={"subject": person, "purposes": ["marketing"], "language": "id"},
        headers=bearer(key),
    )
    assert made.status_code == 201, made.text
    link = made.json()
    assert link["url"].startswith(f"http://testserver/o/{GELATO}/unsubscribe/")
    assert link["headers"] == {
        "List-Unsubscribe": f"<{link['one_click_url']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert link["url"] in link["whatsapp_text"] and "BERHENTI" in link["whatsapp_text"]
    assert (
        web.post(
            f"/api/v1/orgs/{GELATO}/consent/withdrawal-links", json={"subject": person}
        ).status_code
        == 401
    )
    clicked = web.post(path_of(link["one_click_url"]), data={"List-Unsubscribe": "One-Click"})
    assert clicked.json()["withdrawn"] == ["marketing"]
    assert _reason(app_sessions, person["value"], clock) == "withdrawn"
