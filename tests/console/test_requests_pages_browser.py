"""A staff member handles a request in a real browser (the system Chromium) with the keyboard
only: opens it from the queue, ticks its tasks and fulfils it; nothing in the browser complains
(no console error, no Content-Security-Policy violation)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from accounts_helpers import CHROMIUM, CHROMIUM_ARGS, GELATO, live_server, set_up_person
from faker import Faker
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from test_requests_pages_helpers import file, stored

from jagadata.accounts.roles import Role
from jagadata.i18n import gettext

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]

WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def _t(message: str, domain: str = "console") -> str:
    return gettext("id", message, domain)


def test_staff_open_a_request_tick_its_tasks_and_fulfil_it_with_the_keyboard(
    app: FastAPI, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    from playwright.sync_api import expect, sync_playwright

    now = datetime.now(UTC)
    staff = set_up_person(sessions_of, faker_id, role=Role.STAFF, now=now - timedelta(minutes=3))
    later = file(sessions_of, faker_id, now - timedelta(hours=1), started=True)
    reference = file(sessions_of, faker_id, now - timedelta(hours=70), started=True)

    with live_server(app) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(locale="id-ID")
        context.add_init_script(WATCH_CSP)
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))

        page.goto(f"{server}/admin/o/{GELATO}/requests")
        page.locator("#email").fill(staff.email)
        page.locator("#password").fill(staff.password)
        page.locator("#password").press("Enter")
        page.wait_for_url(re.compile(r".*/admin/login/verify.*"))
        page.locator("#code").fill(pyotp.TOTP(staff.secret).now())
        page.locator("#code").press("Enter")
        page.wait_for_url(f"{server}/admin/o/{GELATO}/requests")

        rows = page.locator("#request-queue tbody tr")
        assert rows.evaluate_all("rows => rows.map(r => r.dataset.reference)") == [reference, later]
        link = page.get_by_role("link", name=reference)
        link.focus()
        link.press("Enter")
        page.wait_for_url(f"{server}/admin/o/{GELATO}/requests/{reference}")

        tasks = page.locator("#request-tasks li[data-done='no']")
        count = tasks.count()
        assert count == 3
        for _ in range(count):
            task = page.locator("#request-tasks li[data-done='no']").first
            note = task.locator("textarea")
            note.focus()
            page.keyboard.type("Sudah ditangani")
            page.keyboard.press("Tab")  # the file (optional)
            page.keyboard.press("Tab")  # its kind
            page.keyboard.press("Tab")  # the tick button
            with page.expect_navigation():
                page.keyboard.press("Enter")
            expect(page.locator("#request-notice")).to_have_text(_t("The task is ticked."))
        expect(page.locator("#request-tasks li[data-done='no']")).to_have_count(0)

        page.locator("#fulfil-done").focus()
        page.keyboard.type("Salinan data dikirim ke email pemohon")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.locator("#request-notice")).to_have_text(
            _t("The request is closed as fulfilled.")
        )
        expect(page.locator("#request-status")).to_have_attribute("data-status", "fulfilled")

        assert page.evaluate("window.__cspViolations") == []
        assert problems == [], problems
        browser.close()
    assert stored(sessions_of, reference).status == "fulfilled"
