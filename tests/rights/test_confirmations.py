"""Written confirmations (SQLite and PostgreSQL), delivered by a real SMTP server or put in
the WhatsApp outbox: what was done where and what is kept and why for each right (Art. 30,
41(3), 43-45), a refusal with its ground, article and the authority to complain to; each kept
with the request as a `response` attachment whose hash matches what was sent."""

from __future__ import annotations

import base64
import hashlib

from faker import Faker
from fastapi.testclient import TestClient
from notify_servers import RecordingSmtpServer
from rights_helpers import text_of
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_bundle_support import db, fake, handle

from jagadata.notify.models import OutboxMessage
from jagadata.rights.models import AttachmentKind, RequestAttachment, RightsRequest

__all__ = ["db", "fake"]


def _response(db: Session, request: RightsRequest) -> str:
    [kept] = db.scalars(
        select(RequestAttachment).where(
            RequestAttachment.request_id == request.id,
            RequestAttachment.kind == AttachmentKind.RESPONSE.value,
        )
    ).all()
    content = base64.b64decode(kept.content)
    assert hashlib.sha256(content).hexdigest() == kept.sha256 and len(content) == kept.size
    return content.decode()


def test_an_erasure_says_what_was_erased_where_and_what_is_kept_and_why(
    web: TestClient, smtp_server: RecordingSmtpServer, db: Session, fake: Faker
) -> None:
    email = fake.email()
    request = handle(
        db,
        email,
        right="erasure",
        outcome={"erased": ["gmail", "whatsapp_business"], "kept": ["transactions"]},
    )
    [message] = smtp_server.received
    assert message.recipients == [email]
    assert message.message["Subject"] == f"Permintaan Anda {request.reference} sudah selesai"
    body = text_of(message)
    assert "Kami telah menghapus data pribadi Anda sesuai permintaan Anda." in body
    assert "Pasal 43 ayat (1) UU PDP" in body
    assert "Dihapus dari: Gmail, WhatsApp Business." in body
    assert "Data transaksi (faktur, kontrak)" in body  # the retention rule, by its name
    assert "kewajiban perpajakan Indonesia (10 tahun)" in body  # and why
    assert "Pasal 44 ayat (1) UU PDP" in body
    assert body.strip() in _response(db, request)


def test_rectification_and_restriction_cite_their_articles(
    web: TestClient, smtp_server: RecordingSmtpServer, db: Session, fake: Faker
) -> None:
    handle(db, fake.email(), right="rectification", outcome={"corrected": ["wordpress"]})
    handle(db, fake.email(), right="restriction", outcome={"restricted": ["gmail"]})
    corrected, restricted = (text_of(m) for m in smtp_server.received)
    assert "Kami telah memperbaiki data pribadi Anda" in corrected
    assert "Pasal 30 ayat (1) UU PDP" in corrected
    assert "Diperbaiki: WordPress (pesanan dan akun)." in corrected
    assert "Pasal 41 ayat (3) UU PDP" in restricted
    assert "Pemrosesan ditunda atau dibatasi di: Gmail." in restricted
    assert "Data yang tetap kami simpan" not in restricted  # nothing kept was declared


def test_a_refusal_gives_its_ground_article_and_where_to_complain(
    web: TestClient, smtp_server: RecordingSmtpServer, db: Session, fake: Faker
) -> None:
    request = handle(
        db, fake.email(), refuse=("33(b)", "Percakapan grup memuat data peserta lain.")
    )
    [message] = smtp_server.received
    assert message.message["Subject"] == f"Permintaan Anda {request.reference} ditolak"
    body = text_of(message)
    assert "Kami tidak dapat memenuhi permintaan Anda." in body
    assert "Alasan: Data pribadi orang lain (Pasal 33 huruf b UU PDP)." in body
    assert "Memenuhi permintaan ini akan mengungkapkan data pribadi milik orang lain." in body
    assert "Percakapan grup memuat data peserta lain." in body
    assert "Kementerian Komunikasi dan Digital (Komdigi) (https://www.komdigi.go.id)" in body
    assert body.strip() in _response(db, request)


def test_the_confirmation_is_in_the_person_s_language_and_channel(
    web: TestClient, smtp_server: RecordingSmtpServer, db: Session, fake: Faker
) -> None:
    handle(db, fake.email(), right="erasure", outcome={"erased": ["gmail"]}, language="en")
    body = text_of(smtp_server.received[-1])
    assert "We have erased your personal data as you asked. (Art. 43(1) UU PDP)" in body
    phone = "+62812" + fake.numerify("#######")
    request = handle(
        db, phone, identifier="whatsapp", right="rectification", outcome={"done": "alamat"}
    )
    whatsapp = db.scalars(
        select(OutboxMessage).where(OutboxMessage.channel == "whatsapp")
        .order_by(OutboxMessage.id.desc())
    ).first()  # fmt: skip
    assert whatsapp is not None and whatsapp.recipient == request.contact
    assert "Kami telah memperbaiki data pribadi Anda" in whatsapp.payload["text"]
    assert "Sudah dilakukan: alamat." in whatsapp.payload["text"]
