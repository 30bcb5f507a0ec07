"""Yulia's first sign-in in a real browser (the system Chromium) against a real server: the
owner created with `jagadata user add` opens the one-time link, sets a password, enrols TOTP
from the key under the QR code, signs in with password and code, and the link is then dead.
Afterwards no password, secret, token or email is found in clear in the SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from accounts_helpers import CHROMIUM, CHROMIUM_ARGS, live_server
from faker import Faker
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from jagadata.cli.user import app as user_app
from jagadata.i18n import gettext

LINK = re.compile(r"http://127\.0\.0\.1:8000(/admin/welcome/[A-Za-z0-9_-]{43})")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "accounts")


@pytest.fixture
def server(cli_environment: str, app: FastAPI) -> Iterator[str]:
    with live_server(app) as url:
        yield url


def test_a_new_owner_signs_in_with_two_factors_from_the_first_run_link(
    server: str, cli_environment: str, faker_id: Faker
) -> None:
    from playwright.sync_api import sync_playwright

    email = faker_id.unique.email()
    password = " ".join(faker_id.words(5))
    added = CliRunner().invoke(
        user_app, ["add", email, "--org", "la-gelato-academy", "--role", "owner"]
    )
    assert added.exit_code == 0, added.output
    link = LINK.search(added.output)
    assert link, added.output
    link_url = server + link.group(1)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(locale="id-ID")
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))

        page.goto(link_url)
        assert page.locator("html").get_attribute("lang") == "id"
        assert page.get_by_role("heading", level=1).inner_text() == _t("id", "Set up your account")
        assert page.locator("figure svg").is_visible()
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        page.fill("#password", password)
        page.fill("#password_again", password)
        page.fill("#code", pyotp.TOTP(secret).now())
        page.get_by_role("button", name=_t("id", "Save and continue")).click()
        page.wait_for_load_state()
        codes = page.locator("#recovery-codes li").all_inner_texts()
        assert len(codes) == 10

        page.get_by_role("link", name=_t("id", "I have kept my codes — sign in")).click()
        page.wait_for_load_state()
        page.fill("#email", email)
        page.fill("#password", password)
        page.get_by_role("button", name=_t("id", "Continue")).click()
        page.wait_for_url(re.compile(r".*/admin/login/verify.*"))
        next_step = datetime.now(UTC) + timedelta(seconds=30)  # the enrolment used this step
        page.fill("#code", pyotp.TOTP(secret).at(next_step))
        page.get_by_role("button", name=_t("id", "Sign in")).click()
        page.wait_for_load_state()
        assert page.url.endswith("/admin/o/la-gelato-academy/"), page.url  # her only organisation
        assert email in page.locator("header").inner_text()
        session_cookie = next(c["value"] for c in context.cookies() if c["name"] == "jd_session")
        assert problems == [], problems  # e.g. something the CSP refused

        second_use = page.goto(link_url)
        assert second_use is not None and second_use.status == 404
        assert page.get_by_role("heading", level=1).inner_text() == _t(
            "id", "This link no longer works"
        )
        browser.close()

    database = Path(make_url(cli_environment).database or "")
    stored = b"".join(
        path.read_bytes() for path in database.parent.glob(database.name + "*") if path.is_file()
    )
    token = link.group(1).rsplit("/", 1)[1]
    secrets_in_clear = {
        "password": password,
        "TOTP secret": secret,
        "sign-in link token": token,
        "session cookie": session_cookie,
        "email": email,
        **{f"recovery code {i}": code for i, code in enumerate(codes)},
    }
    for name, value in secrets_in_clear.items():
        for form in {value, value.replace("-", ""), value.lower(), value.upper()}:
            assert form.encode() not in stored, f"the {name} is stored in clear"
            assert form.encode("utf-16-le") not in stored, f"the {name} is stored in clear"
