"""Sari in Chromium: subscribes on the organisation's page, confirms from the link in the email
that a local SMTP server received, opens her receipt, then withdraws from the email's link."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from faker import Faker
from fastapi import FastAPI
from optin_support import Outside, app_sessions, links_in, optin_app, outside, web
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.consent.models import ConsentEvent
from jagadata.i18n import gettext

__all__ = ["app_sessions", "optin_app", "outside", "web"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run"]
GELATO = "la-gelato-academy"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


def _t(message: str) -> str:
    return gettext("id", message, "consent")


@pytest.fixture
def server(optin_app: FastAPI) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uvicorn_server = uvicorn.Server(uvicorn.Config(optin_app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(600):
        if uvicorn_server.started or not thread.is_alive():
            break
        time.sleep(0.05)
    assert uvicorn_server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(timeout=30)
    sock.close()


def test_subscribe_confirm_keep_the_receipt_then_withdraw(
    server: str, outside: Outside, app_sessions: sessionmaker[Session], faker_id: Faker
) -> None:
    from playwright.sync_api import sync_playwright

    email = faker_id.unique.free_email()

    def local(url: str) -> str:
        return url.replace("http://testserver", server)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_context(locale="id-ID").new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda m: (
                problems.append(f"{m.text} {m.location.get('url', '')}")
                if m.type == "error"
                else None
            ),
        )
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )

        page.goto(f"{server}/o/{GELATO}/subscribe")
        assert page.locator("html").get_attribute("lang") == "id"
        page.get_by_role("checkbox").check()
        page.get_by_label(_t("Your email address")).fill(email)
        page.get_by_role("button", name=_t("Send me the confirmation email")).click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name=_t("Check your inbox")).is_visible()

        [request] = outside.smtp.received
        assert request.recipients == [email]
        confirm_url = next(u for u in links_in(request) if "/confirm/" in u)
        page.goto(local(confirm_url))
        assert page.get_by_role("heading", name=_t("Confirm your consent")).is_visible()
        with app_sessions() as session:
            session.info["all_organisations"] = True
            assert session.scalars(select(ConsentEvent)).all() == []
        page.get_by_role("button", name=_t("I agree")).click()
        page.wait_for_load_state()
        assert page.get_by_role(
            "heading", name=_t("Thank you: your consent is recorded")
        ).is_visible()

        page.get_by_role("link", name=_t("Receipt: %(purpose)s") % {"purpose": "Pemasaran"}).click()
        page.wait_for_load_state()
        assert "/receipts/" in page.url
        assert page.get_by_role("heading", name=_t("Consent receipt")).is_visible()

        receipt_mail = outside.smtp.received[1]
        withdraw_url = next(u for u in links_in(receipt_mail) if "/unsubscribe/" in u)
        page.goto(local(withdraw_url))
        page.get_by_role("button", name=_t("Withdraw my consent")).click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name=_t("Your consent is withdrawn")).is_visible()
        assert "72 jam" in page.locator("article").inner_text()
        # the receipt page (consent/receipt.html) names no icon, so Chromium asks for one
        assert [p for p in problems if not p.endswith("/favicon.ico")] == []
        browser.close()

    with app_sessions() as session:
        session.info["all_organisations"] = True
        kinds = session.scalars(select(ConsentEvent.kind).order_by(ConsentEvent.id)).all()
    assert kinds == ["given", "withdrawn"]
