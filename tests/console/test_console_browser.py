"""Rina's console in a real browser (the system Chromium) against a real server: a DPO of two
organisations signs in with password and TOTP, lands on /admin/, switches organisation with the
switcher, publishes a new manifest version, opens the audit log and finds her own entries, then
filters it with HTMX — the table changes, the page is not reloaded, and nothing in the browser
complains (no console error, no Content-Security-Policy violation)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from accounts_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    GELATO,
    MILLEALAB,
    add_member,
    live_server,
    set_up_person,
)
from console_helpers import changed
from faker import Faker
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.roles import Role
from jagadata.i18n import gettext

MILLEALAB_MANIFEST = Path(__file__).resolve().parents[2] / "examples" / "millealab.yaml"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
    pytest.mark.skipif(not MILLEALAB_MANIFEST.exists(), reason="examples/millealab.yaml missing"),
]

WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def _t(lang: str, message: str, domain: str = "console") -> str:
    return gettext(lang, message, domain)


def test_a_dpo_of_two_organisations_switches_and_reads_her_audit_log(
    app: FastAPI, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    from playwright.sync_api import FilePayload, expect, sync_playwright

    rina = set_up_person(
        sessions_of, faker_id, role=Role.DPO, now=datetime.now(UTC) - timedelta(minutes=3)
    )
    add_member(sessions_of, rina, org=MILLEALAB, role=Role.DPO)
    new_version = changed(
        MILLEALAB_MANIFEST.read_text(encoding="utf-8"), "effective: 2026-07-01",
        "effective: 2027-01-15",
    )  # fmt: skip

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

        page.goto(f"{server}/admin/")
        page.wait_for_url(re.compile(r".*/admin/login\?next=/admin/$"))
        page.fill("#email", rina.email)
        page.fill("#password", rina.password)
        page.get_by_role("button", name=_t("id", "Continue", "accounts")).click()
        page.wait_for_url(re.compile(r".*/admin/login/verify.*"))
        page.fill("#code", pyotp.TOTP(rina.secret).now())
        page.get_by_role("button", name=_t("id", "Sign in", "accounts")).click()
        page.wait_for_url(f"{server}/admin/")
        assert page.locator("html").get_attribute("lang") == "id"
        assert page.get_by_role("heading", level=1).inner_text() == _t("id", "Your organisations")

        page.locator("#organisation-list").get_by_role("link", name="La Gelato Academy").click()
        page.wait_for_url(f"{server}/admin/o/{GELATO}/")
        switcher = page.locator("details.switcher")
        switcher.locator("summary").click()
        options = switcher.locator("#switcher-list a").all_inner_texts()
        assert len(options) == 2
        assert all(_t("id", "Data protection officer", "accounts") in text for text in options)
        assert {text.splitlines()[0].strip() for text in options} == {
            "La Gelato Academy",
            "MilleaLab",
        }
        switcher.get_by_role("link", name=re.compile("MilleaLab")).click()
        page.wait_for_url(f"{server}/admin/o/{MILLEALAB}/")
        assert page.locator(".current-org").inner_text() == "MilleaLab"

        page.locator("nav.sections").get_by_role("link", name=_t("id", "Manifest")).click()
        upload: FilePayload = {
            "name": "millealab.yaml",
            "mimeType": "application/yaml",
            "buffer": new_version.encode("utf-8"),
        }
        page.set_input_files("#manifest-file", files=[upload])
        page.get_by_role("button", name=_t("id", "Check and publish")).click()
        page.wait_for_url(re.compile(rf".*/admin/o/{MILLEALAB}/manifest/2\?published=1$"))
        expect(page.locator("#published-notice")).to_be_visible()

        page.locator("nav.sections").get_by_role("link", name=_t("id", "Audit log")).click()
        page.wait_for_url(f"{server}/admin/o/{MILLEALAB}/audit")
        expect(page.locator("#chain-status")).to_have_class("chain-ok")
        rows = page.locator("#audit-entries tbody tr")
        actions = rows.evaluate_all("rows => rows.map(r => r.dataset.action)")
        assert actions[:2] == ["org.published", "console.opened"], actions
        mine = rows.filter(has_text=rina.email)
        assert mine.count() >= 2

        page.evaluate("window.__stillTheSamePage = true")
        page.fill("#filter-action", "org.")
        with page.expect_response(re.compile(r".*/audit\?.*action=org\..*")) as answer:
            page.locator("#filter-action").press("Enter")
        assert answer.value.request.headers.get("hx-request") == "true"
        expect(page.locator("#audit-entries tbody tr[data-action='console.opened']")).to_have_count(
            0
        )
        filtered = page.locator("#audit-entries tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.action)"
        )
        assert filtered and all(action.startswith("org.") for action in filtered), filtered
        assert page.evaluate("window.__stillTheSamePage") is True, "the page was reloaded"
        assert "action=org." in page.url, "the filter is in the address, to share or go back to"

        assert page.evaluate("window.__cspViolations") == []
        assert problems == [], problems
        browser.close()
