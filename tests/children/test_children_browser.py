"""Sari, 12, on her phone in Indonesian: the age question sends her to a parent or guardian;
her mother's code arrives by email (a real SMTP server), her mother consents on the same page
and gets the receipt. A real browser (the system Chromium) against a real server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from accounts_helpers import Clock
from children_helpers import code_in, events, org_id
from faker import Faker
from fastapi import FastAPI
from notify_servers import RecordingSmtpServer
from sqlalchemy.orm import Session, sessionmaker

from jagadata.i18n import gettext
from jagadata.jobs import JobQueue

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


def _c(message: str) -> str:
    return gettext("id", message, "children")


@pytest.fixture
def server(app: FastAPI, clock: Clock, delivering_queue: JobQueue) -> Iterator[str]:
    """The app served by uvicorn on a free port, delivering email as each change commits."""
    app.state.clock = clock
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(600):  # up to 30 s
        if uvicorn_server.started or not thread.is_alive():
            break
        time.sleep(0.05)
    assert uvicorn_server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(timeout=30)
    sock.close()


def test_a_child_is_routed_to_her_mother_who_consents_with_the_emailed_code(
    server: str,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    from playwright.sync_api import sync_playwright

    mother = faker_id.free_email()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            locale="id-ID", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )

        page.goto(f"{server}/o/millealab/consent?purpose=assessment_dashboard")
        assert page.locator("html").get_attribute("lang") == "id"
        assert page.get_by_role("heading", name=_c("Before you give consent")).is_visible()
        page.get_by_label(_c("Age in years")).fill("12")
        page.get_by_role("button", name=_c("Continue")).click()

        page.wait_for_url("**/o/millealab/guardian?**")
        assert page.get_by_role("heading", name=_c("A parent or guardian decides")).is_visible()
        assert "Pasal 25" in page.locator("main").inner_text()
        assert _no_horizontal_scroll(page)
        page.get_by_label(_c("Email"), exact=True).check()
        page.get_by_label(_c("Parent's or guardian's email address or WhatsApp number")).fill(
            mother
        )
        page.get_by_role("button", name=_c("Send the code")).click()

        page.wait_for_url("**/o/millealab/guardian/*")
        assert page.get_by_role("heading", name=_c("Enter the code")).is_visible()
        [email] = smtp_server.received
        assert email.recipients == [mother]
        assert email.message["Subject"].startswith("Kode verifikasi Anda untuk MilleaLab")
        page.get_by_label(_c("Code")).fill(code_in(email))
        page.get_by_role("button", name=_c("Verify")).click()

        assert page.get_by_role("heading", name=_c("Consent for your child")).is_visible()
        text = page.locator("blockquote").inner_text()
        assert text.startswith("Sebagai orang tua atau wali, saya setuju MilleaLab memproses")
        assert _no_horizontal_scroll(page)
        page.get_by_label(_c("Yes, I agree for my child")).check()
        page.get_by_role("button", name=_c("Send my decision")).click()

        assert page.get_by_role("heading", name=_c("Your answers are recorded")).is_visible()
        assert _c("consent given") in page.locator("main").inner_text()
        assert _no_horizontal_scroll(page)
        assert problems == [], problems  # e.g. a style refused by the CSP, a missing file
        page.get_by_role("link", name=_c("Consent receipt")).click()
        page.wait_for_url("**/o/millealab/receipts/**")
        assert page.get_by_role("heading", name="Tanda terima persetujuan").is_visible()
        assert "Sebagai orang tua atau wali" in page.locator("body").inner_text()
        browser.close()

    stored = events(sessions_of, org_id(sessions_of, "millealab"))
    assert [(e.kind, e.child) for e in stored] == [("given", False), ("given", True)]
    assert stored[1].guardian_ref == stored[0].subject_ref
    receipt_mail = smtp_server.received[-1]
    assert receipt_mail.recipients == [mother] and len(smtp_server.received) == 2


def _no_horizontal_scroll(page: object) -> bool:
    return bool(
        page.evaluate(  # type: ignore[attr-defined]
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )
