"""The whole journey of an access request in a real browser (the system Chromium) against a
real server and a real SMTP server: a person files it in Indonesian and confirms with the
emailed code; a staff member finds it in the console with its 72-hour deadline, ticks the
manual tasks and fulfils it; the person downloads the bundle once, and a second download
fails."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from accounts_helpers import CHROMIUM, CHROMIUM_ARGS, GELATO, live_server, set_up_person
from faker import Faker
from fastapi import FastAPI
from notify_servers import RecordingSmtpServer
from rights_helpers import code_in, text_of
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.roles import Role
from jagadata.db.tenancy import across_organisations
from jagadata.i18n import gettext
from jagadata.jobs import JobQueue
from jagadata.rights.models import RightsRequest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]
DOWNLOAD_LINK = re.compile(r"(https?://\S+/download\?k=\S+)")


def _r(message: str) -> str:
    return gettext("id", message, "rights")


def _c(message: str) -> str:
    return gettext("id", message, "console")


def test_an_access_request_from_filing_to_a_single_download(
    app: FastAPI,
    delivering_queue: JobQueue,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    staff = set_up_person(
        sessions_of, faker_id, role=Role.STAFF, now=datetime.now(UTC) - timedelta(minutes=5)
    )
    email = faker_id.unique.free_email()
    with live_server(app) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        person = browser.new_context(locale="id-ID", accept_downloads=True).new_page()

        # 1. The person files an access request in Indonesian and confirms with the code.
        person.goto(f"{server}/o/{GELATO}/requests/new")
        assert person.locator("html").get_attribute("lang") == "id"
        person.get_by_label(re.compile("akses", re.I)).first.check()
        person.locator("input[name=value]").fill(email)
        person.get_by_role("button", name=_r("Send my request")).click()
        person.wait_for_url("**/verify?**")
        [code_mail] = smtp_server.received
        assert code_mail.recipients == [email]
        person.get_by_label(_r("Code")).fill(code_in(code_mail))
        person.get_by_role("button", name=_r("Confirm")).click()
        person.wait_for_url(re.compile(r".*/requests/R-[A-Z0-9]{8}\?k=.*"))
        status_url = person.url
        reference = urlsplit(status_url).path.rsplit("/", 1)[-1]
        with sessions_of() as session, across_organisations(session):
            stored = session.scalars(
                select(RightsRequest).where(RightsRequest.reference == reference)
            ).one()
            assert stored.status == "verified"
            assert stored.due_at is not None
            assert stored.due_at - stored.received_at == timedelta(hours=72)

        # 2. Staff find it in the console with its 72-hour deadline and handle it.
        desk = browser.new_context(locale="id-ID").new_page()
        desk.goto(f"{server}/admin/o/{GELATO}/requests")
        desk.locator("#email").fill(staff.email)
        desk.locator("#password").fill(staff.password)
        desk.locator("#password").press("Enter")
        desk.wait_for_url(re.compile(r".*/admin/login/verify.*"))
        desk.locator("#code").fill(pyotp.TOTP(staff.secret).now())
        desk.locator("#code").press("Enter")
        desk.wait_for_url(f"{server}/admin/o/{GELATO}/requests")
        desk.get_by_role("link", name=reference).click()
        desk.wait_for_url(f"{server}/admin/o/{GELATO}/requests/{reference}")
        due = desk.locator("#request-due").inner_text()
        assert "72h" in due and "WIB" in due
        desk.locator("#start-form button").click()
        desk.wait_for_load_state()
        while desk.locator("#request-tasks li[data-done='no']").count():
            task = desk.locator("#request-tasks li[data-done='no']").first
            task.locator("textarea").fill("Sudah diekspor")
            with desk.expect_navigation():
                task.locator("button[type=submit]").click()
        desk.locator("#fulfil-done").fill("Salinan data disiapkan untuk diunduh")
        with desk.expect_navigation():
            desk.locator("#fulfil-form button[type=submit]").click()
        expect(desk.locator("#request-status")).to_have_attribute("data-status", "fulfilled")
        expect(desk.locator("#request-notice")).to_have_text(
            _c("The request is closed as fulfilled.")
        )

        # 3. The person downloads the bundle once; the second attempt fails.
        ready = text_of(smtp_server.received[-1])
        assert reference in ready
        found = DOWNLOAD_LINK.search(ready)
        assert found is not None
        parts = urlsplit(found.group(1))
        link = f"{server}{parts.path}?{parts.query}&lang=id"
        person.goto(status_url)
        expect(person.get_by_role("link", name=_r("Download your data"))).to_be_visible()
        person.goto(link)
        person.get_by_role("button", name=_r("Send me a code")).click()
        person.get_by_label(_r("Code")).fill(code_in(smtp_server.received[-1]))
        with person.expect_download() as downloading:
            person.get_by_role("button", name=_r("Download")).click()
        content = Path(downloading.value.path()).read_bytes()
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            index = archive.read("index.html").decode()
        assert {"index.html", "data.json", "processing-trail.json"} <= names
        assert reference in index
        second = person.goto(link)
        assert second is not None and second.status == 410
        browser.close()
