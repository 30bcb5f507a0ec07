"""The person downloads their bundle once (SQLite and PostgreSQL): the link in the email,
a fresh code sent to their address, the zip after the right code only, then a 410 page that
says how to ask again; after 7 days the copy is erased unread."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from urllib.parse import urlsplit

from accounts_helpers import Clock
from faker import Faker
from fastapi.testclient import TestClient
from notify_servers import RecordingSmtpServer
from rights_helpers import code_in, csrf_of, text_of
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from test_bundle_support import ACCESS_KEYS, RECEIVED, bundle_of, db, fake, handle

from jagadata.audit.models import AuditEntry
from jagadata.db import session_factory
from jagadata.rights import download, service
from jagadata.rights.models import RightsRequest

__all__ = ["db", "fake"]

LINK = re.compile(r"(https?://\S+/download\?k=\S+)")


def _link(email_text: str) -> str:
    found = LINK.search(email_text)
    assert found is not None, "no download link in the email"
    parts = urlsplit(found.group(1))
    return f"{parts.path}?{parts.query}"


def _ready(
    smtp: RecordingSmtpServer, db: Session, fake: Faker, clock: Clock
) -> tuple[RightsRequest, str]:
    """An access request fulfilled, and the link of the email that says its bundle is ready."""
    request = handle(db, fake.email())
    clock.now = RECEIVED + timedelta(hours=6)
    return request, _link(text_of(smtp.received[-1]))


def _ask_code(web: TestClient, link: str, smtp: RecordingSmtpServer) -> tuple[str, str]:
    page = web.get(link + "&lang=id")
    assert page.status_code == 200, page.text
    assert "Kirimkan kode" in page.text
    path, query = link.split("?", 1)
    sent = web.post(f"{path}/code?{query}&lang=id", data={"csrf_token": csrf_of(page.text)})
    assert sent.status_code == 200, sent.text
    assert 'autocomplete="one-time-code"' in sent.text
    return code_in(smtp.received[-1]), csrf_of(sent.text)


def test_the_bundle_downloads_once_after_a_fresh_code(
    web: TestClient,
    smtp_server: RecordingSmtpServer,
    db: Session,
    fake: Faker,
    clock: Clock,
) -> None:
    request, link = _ready(smtp_server, db, fake, clock)
    assert smtp_server.received[-1].recipients == [request.contact]
    # opening the page sends nothing: a mail scanner following the link uses up no code
    before = len(smtp_server.received)
    assert web.get(link).status_code == 200
    assert len(smtp_server.received) == before
    # no code asked yet: nothing is given
    page = web.get(link + "&lang=id")
    refused = web.post(link + "&lang=id", data={"csrf_token": csrf_of(page.text), "code": "123456"})
    assert refused.status_code == 422 and "zip" not in refused.headers["content-type"]
    code, token = _ask_code(web, link, smtp_server)
    code_email = text_of(smtp_server.received[-1])
    assert request.reference in code_email and "15 menit" in code_email
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    bad = web.post(link + "&lang=id", data={"csrf_token": token, "code": wrong})
    assert bad.status_code == 422 and "Sisa percobaan: 4." in bad.text
    good = web.post(link + "&lang=id", data={"csrf_token": token, "code": code})
    assert good.status_code == 200
    assert good.headers["content-type"] == "application/zip"
    assert f'filename="{request.reference}-data.zip"' in good.headers["content-disposition"]
    assert good.headers["cache-control"].startswith("private")
    with zipfile.ZipFile(io.BytesIO(good.content)) as archive:
        assert "index.html" in archive.namelist()
    db.expire_all()
    bundle = bundle_of(db, request)
    assert bundle.downloaded_at == clock.now and bundle.content is None
    raw = db.execute(
        text("SELECT content FROM rights_request_bundle WHERE id = :id"), {"id": bundle.id}
    ).scalar()
    assert raw is None  # the copy is gone; its hash stays
    assert len(bundle.sha256) == 64
    # a second attempt: 410, saying it was downloaded and how to ask again
    again = web.get(link + "&lang=id")
    assert again.status_code == 410
    assert "Berkas ini sudah diunduh" in again.text and "requests/new?right=access" in again.text
    replay = web.post(link + "&lang=id", data={"csrf_token": token, "code": code})
    assert replay.status_code == 410 and "zip" not in replay.headers["content-type"]
    # the evidence: timeline entries (chain intact) and audit entries, without the code
    db.expire_all()
    kinds = [
        (e.kind, e.data.get("purpose") or e.data.get("event"))
        for e in service.timeline(db, request)
    ]
    assert ("code_sent", "download") in kinds and ("code_failed", "download") in kinds
    assert kinds[-1] == ("note", "bundle_downloaded")
    assert service.verify_timeline(db, request) is None
    actions = db.scalars(
        select(AuditEntry.action).where(AuditEntry.target_id == request.reference)
    ).all()
    assert "rights.bundle.downloaded" in actions
    assert all(code not in str(e.data) for e in service.timeline(db, request))


def test_the_status_page_key_opens_the_download_too_and_strangers_get_404(
    web: TestClient, smtp_server: RecordingSmtpServer, db: Session, fake: Faker, clock: Clock
) -> None:
    request, link = _ready(smtp_server, db, fake, clock)
    base = f"/o/la-gelato-academy/requests/{request.reference}/download"
    assert web.get(f"{base}?k={ACCESS_KEYS[request.reference]}").status_code == 200
    assert web.get(f"{base}?k=not-the-key").status_code == 404
    assert web.get(base).status_code == 404
    other, _ = _ready(smtp_server, db, fake, clock)
    token = link.split("k=", 1)[1]
    stranger = f"/o/la-gelato-academy/requests/{other.reference}/download?k={token}"
    assert web.get(stranger).status_code == 404  # one request's token opens no other


def test_an_expired_link_erases_the_copy_and_answers_410(
    web: TestClient, smtp_server: RecordingSmtpServer, db: Session, fake: Faker, clock: Clock
) -> None:
    request, link = _ready(smtp_server, db, fake, clock)
    code, token = _ask_code(web, link, smtp_server)
    bundle = bundle_of(db, request)
    clock.now = bundle.expires_at + timedelta(minutes=1)
    late = web.post(link + "&lang=id", data={"csrf_token": token, "code": code})
    assert late.status_code == 410 and "kedaluwarsa" in late.text
    db.expire_all()
    assert bundle_of(db, request).content is None
    assert bundle_of(db, request).downloaded_at is None
    assert service.timeline(db, request)[-1].data["event"] == "bundle_expired"


def test_the_sweep_erases_every_expired_copy_and_only_those(
    web: TestClient, db: Session, fake: Faker, migrated_engine: Engine
) -> None:
    old = handle(db, fake.email())
    fresh = handle(db, fake.email())
    bundle_of(db, fresh).expires_at += timedelta(days=3)
    db.commit()
    moment = bundle_of(db, old).expires_at + timedelta(hours=1)
    with session_factory(migrated_engine)() as job:  # a job's session: every organisation
        assert download.expire_bundles(job, now=moment) == 1
        job.commit()
        assert download.expire_bundles(job, now=moment) == 0
    db.expire_all()
    assert bundle_of(db, old).content is None
    assert bundle_of(db, fresh).content is not None
    assert service.timeline(db, old)[-1].data["event"] == "bundle_expired"
    assert service.verify_timeline(db, old) is None
