"""The person's side in a real browser (the system Chromium) against a real server: Budi asks
for his data in Indonesian, confirms with the emailed code, sees the request done on his status
page, downloads the bundle once with a fresh code from the captured email; a second attempt
gets the page saying it was already downloaded."""

from __future__ import annotations

import io
import re
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from accounts_helpers import Clock
from faker import Faker
from fastapi import FastAPI
from notify_servers import RecordingSmtpServer
from rights_helpers import code_in, text_of
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.service import Actor
from jagadata.db.tenancy import scope
from jagadata.i18n import gettext
from jagadata.jobs import JobQueue
from jagadata.orgs.models import Organisation
from jagadata.rights import service
from jagadata.rights.models import RightsRequest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run"]
LINK = re.compile(r"(https?://\S+/download\?k=\S+)")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


def _r(message: str) -> str:
    return gettext("id", message, "rights")


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


def _staff_fulfil(sessions: sessionmaker[Session], reference: str, clock: Clock) -> None:
    """Staff handle the request: start it, tick every task, fulfil it (the bundle is made)."""
    with sessions() as session:
        organisation = session.scalars(
            select(Organisation).where(Organisation.slug == "la-gelato-academy")
        ).one()
        scope(session, organisation.id)
        request = session.scalars(
            select(RightsRequest).where(RightsRequest.reference == reference)
        ).one()
        staff = Actor.user(1, "staff")
        service.start(session, request, actor=staff, now=clock.advance(minutes=30))
        for task in service.tasks_of(session, request):
            service.complete_task(
                session, request, task.id, actor=staff, user_id=None, note=None, now=clock.now
            )
        service.fulfil(session, request, actor=staff, outcome={}, now=clock.advance(minutes=30))
        session.commit()


def test_the_person_downloads_their_data_once_with_the_emailed_code(
    server: str,
    smtp_server: RecordingSmtpServer,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    from playwright.sync_api import sync_playwright

    email = faker_id.free_email()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(locale="id-ID", accept_downloads=True)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

        page.goto(f"{server}/o/la-gelato-academy/requests/new?right=access&lang=id")
        page.locator("input[name=value]").fill(email)
        page.get_by_role("button", name=_r("Send my request")).click()
        page.wait_for_url("**/verify?**")
        page.get_by_label(_r("Code")).fill(code_in(smtp_server.received[-1]))
        page.get_by_role("button", name=_r("Confirm")).click()
        page.wait_for_url(re.compile(r".*/requests/R-[A-Z0-9]{8}\?k=.*"))
        status_url = page.url
        reference = urlsplit(status_url).path.rsplit("/", 1)[-1]

        _staff_fulfil(sessions_of, reference, clock)
        clock.advance(hours=1)
        page.goto(status_url)
        assert _r("Done") in page.locator("main").inner_text()

        ready = text_of(smtp_server.received[-1])
        assert reference in ready
        found = LINK.search(ready)
        assert found is not None
        parts = urlsplit(found.group(1))
        link = f"{server}{parts.path}?{parts.query}&lang=id"
        page.goto(link)
        assert page.get_by_role("heading", name=_r("Download your data")).is_visible()
        page.get_by_role("button", name=_r("Send me a code")).click()
        code_email = smtp_server.received[-1]
        assert code_email.recipients == [email]
        page.get_by_label(_r("Code")).fill(code_in(code_email))
        with page.expect_download() as downloading:
            page.get_by_role("button", name=_r("Download")).click()
        download = downloading.value
        assert download.suggested_filename == f"{reference}-data.zip"
        content = Path(download.path()).read_bytes()
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            index = archive.read("index.html").decode()
        assert reference in index and email in index

        assert problems == [], problems  # e.g. a style refused by the CSP, a missing file
        second = page.goto(link)
        assert second is not None and second.status == 410
        assert page.get_by_role("heading", name=_r("This file was already downloaded")).is_visible()
        assert page.get_by_role("link", name=_r("Make a new request")).is_visible()
        browser.close()
