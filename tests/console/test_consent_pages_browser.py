"""The consent pages in a real browser (the system Chromium) against a real server: the overview
draws its chart under the strict CSP, and a staff member finds a person's history with the
keyboard alone — the reason is asked for first, then the events are shown."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from accounts_helpers import CHROMIUM, CHROMIUM_ARGS, GELATO, live_server, set_up_person
from faker import Faker
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from test_consent_pages_helpers import Seeded, people, record

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


def _t(lang: str, message: str, domain: str = "console") -> str:
    return gettext(lang, message, domain)


def test_the_overview_draws_its_chart_and_the_history_works_with_the_keyboard(
    app: FastAPI, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    from playwright.sync_api import expect, sync_playwright

    now = datetime.now(UTC)
    staff = set_up_person(sessions_of, faker_id, role=Role.STAFF, now=now - timedelta(minutes=3))
    who = people(faker_id, 3)
    record(sessions_of, GELATO, [
        Seeded(who[0], "given", "web_form", now - timedelta(days=15)),
        Seeded(who[1], "refused", "whatsapp", now - timedelta(days=8)),
        Seeded(who[2], "given", "web_form", now - timedelta(days=1)),
        Seeded(who[0], "withdrawn", "whatsapp", now - timedelta(hours=1)),
    ], now=now)  # fmt: skip

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

        page.goto(f"{server}/admin/o/{GELATO}/consent")
        page.fill("#email", staff.email)
        page.fill("#password", staff.password)
        page.get_by_role("button", name=_t("id", "Continue", "accounts")).click()
        page.wait_for_url(re.compile(r".*/admin/login/verify.*"))
        page.fill("#code", pyotp.TOTP(staff.secret).now())
        page.get_by_role("button", name=_t("id", "Sign in", "accounts")).click()
        page.wait_for_url(f"{server}/admin/o/{GELATO}/consent")

        chart = page.locator("svg#consent-chart-marketing")
        expect(chart).to_be_visible()
        assert chart.get_attribute("role") == "img"
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100
        values = chart.locator("rect.column").evaluate_all(
            "rects => rects.map(r => Number(r.dataset.value))"
        )
        assert sum(values) == 4
        given = chart.locator("rect.bar-given").first
        fill = given.evaluate("r => getComputedStyle(r).fill")
        assert fill not in ("", "none", "rgb(0, 0, 0)"), "the stylesheet colours the columns"
        page.locator("figure[data-purpose='marketing'] details.as-table summary").click()
        expect(page.locator("figure[data-purpose='marketing'] table")).to_be_visible()

        page.evaluate("window.__stillTheSamePage = true")
        with page.expect_response(re.compile(r".*/consent\?.*channel=whatsapp.*")) as answer:
            page.select_option("#filter-channel", "whatsapp")
        assert answer.value.request.headers.get("hx-request") == "true"
        given_now = page.locator("svg#consent-chart-marketing rect.bar-given:not([data-value='0'])")
        expect(given_now).to_have_count(0)  # both consents were given on the web form
        whatsapp = page.locator("svg#consent-chart-marketing rect.column").evaluate_all(
            "rects => rects.map(r => Number(r.dataset.value))"
        )
        assert sum(whatsapp) == 2, "one refusal and one withdrawal came by WhatsApp"
        assert page.evaluate("window.__stillTheSamePage") is True, "the page was not reloaded"
        assert "channel=whatsapp" in page.url

        page.locator("nav.sections").get_by_role("link", name=_t("id", "Consent history")).click()
        page.wait_for_url(f"{server}/admin/o/{GELATO}/consent/history")
        page.locator("#history-kind").focus()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "history-value"
        page.keyboard.type(who[0].upper())
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        reason = page.locator("#history-reason")
        expect(reason).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#history-reason-error")).to_be_visible()
        expect(page.locator("#history-events")).to_have_count(0)

        reason.focus()
        page.keyboard.type("Permintaan akses nomor 42")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") == "BUTTON"
        page.keyboard.press("Enter")
        rows = page.locator("#history-events tbody tr")
        expect(rows).to_have_count(2)
        kinds = rows.evaluate_all("rows => rows.map(r => r.dataset.kind)")
        assert kinds == ["withdrawn", "given"]
        expect(page.locator("#history-states tr[data-status='withdrawn']")).to_have_count(1)

        assert page.evaluate("window.__cspViolations") == []
        expected = (
            "Failed to load resource: the server responded with a status of 400 (Bad Request)"
        )
        assert problems == [expected], "only the refused form (no reason) answered an error"
        browser.close()
