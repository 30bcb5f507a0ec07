"""The access bundle (Art. 32, 13) on SQLite and PostgreSQL: built when an access request is
fulfilled, with the person's data, their consents only, the processing trail of the manifest
in force, the request's log without staff notes, stored encrypted with its hash and size."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

from faker import Faker
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from test_bundle_support import (
    RECEIVED,
    STAFF_NOTE,
    bundle_of,
    db,
    fake,
    files_of,
    gelato,
    give_consent,
    handle,
)

from jagadata.audit.models import AuditEntry
from jagadata.audit.service import Actor
from jagadata.db import session_factory
from jagadata.db.tenancy import scope
from jagadata.notify.models import OutboxMessage
from jagadata.rights import service
from jagadata.rights.models import AttachmentKind, RequestAttachment, RequestBundle

__all__ = ["db", "fake"]

EXPECTED_FILES = {
    "index.html",
    "data.json",
    "data.csv",
    "consent-history.json",
    "processing-trail.json",
    "request-log.json",
    "SHA256SUMS",
}


def test_an_access_bundle_holds_the_person_s_data_and_only_theirs(db: Session, fake: Faker) -> None:
    mine, other = fake.unique.email(), fake.unique.email()
    my_events = give_consent(db, mine)
    give_consent(db, other)
    export = f"nama,email\nSiti,{mine}\n".encode()
    request = handle(db, mine, exports={"../wordpress export.csv": export})
    bundle = bundle_of(db, request)
    files = files_of(bundle)
    assert set(files) == EXPECTED_FILES | {"exports/wordpress_export.csv"}
    assert files["exports/wordpress_export.csv"] == export  # as attached, byte for byte
    everything = b"".join(files.values()).decode("utf-8", "replace")
    assert other not in everything
    assert STAFF_NOTE not in everything
    # consent history: exactly this person's events from the ledger, with their receipts
    history = json.loads(files["consent-history.json"])
    assert history["subjectRef"] == request.subject_ref
    assert [(e["sequence"], e["receiptId"], e["hash"]) for e in history["events"]] == [
        (e.sequence, e.receipt_id, e.hash) for e in my_events
    ]
    assert history["events"][0]["receiptUrl"].endswith(
        f"/o/la-gelato-academy/receipts/{my_events[0].receipt_id}"
    )
    data = json.loads(files["data.json"])
    assert data["request"]["reference"] == request.reference
    assert data["request"]["contact"] == request.contact
    assert data["consentHistory"] == history["events"]
    assert data["exports"] == [
        {
            "file": "exports/wordpress_export.csv",
            "originalName": "../wordpress export.csv",
            "mediaType": "text/csv",
            "size": len(export),
            "sha256": hashlib.sha256(export).hexdigest(),
            "uploadedAt": data["exports"][0]["uploadedAt"],
        }
    ]
    rows = list(csv.DictReader(io.StringIO(files["data.csv"].decode("utf-8-sig"))))
    assert {"source", "record", "field", "value"} == set(rows[0])
    assert any(r["source"] == "consent_event" and r["field"] == "receiptId"
               and r["value"] == my_events[0].receipt_id for r in rows)  # fmt: skip
    sums: dict[str, str] = {}
    for line in files["SHA256SUMS"].decode().splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    assert all(hashlib.sha256(files[name]).hexdigest() == digest for name, digest in sums.items())
    assert set(sums) == set(files) - {"SHA256SUMS"}


def test_the_processing_trail_follows_the_manifest_in_force(db: Session, fake: Faker) -> None:
    request = handle(db, fake.email())
    files = files_of(bundle_of(db, request))
    trail = json.loads(files["processing-trail.json"])
    number, manifest = service.manifest_in_force(db, gelato(db))
    assert trail["manifestVersion"] == number
    assert [p["id"] for p in trail["purposes"]] == [p.id for p in manifest.purposes]
    by_id = {p["id"]: p for p in trail["purposes"]}
    marketing = by_id["marketing"]
    assert marketing["legalBasis"]["basis"] == "consent"
    assert marketing["legalBasis"]["article"] == "Pasal 20 ayat (2) huruf a UU PDP"
    orders = by_id["orders"]
    assert orders["legalBasis"]["article"] == "Pasal 20 ayat (2) huruf b UU PDP"
    assert [r["id"] for r in orders["recipients"]] == manifest.purpose("orders").recipients  # type: ignore[union-attr]
    hostinger = [t for t in orders["transfers"] if t["recipient"] == "hostinger"]
    assert [c["code"] for c in hostinger[0]["countries"]] == ["SG", "LT"]
    assert hostinger[0]["basis"]["basis"] == "binding_safeguards"
    assert "56" in hostinger[0]["basis"]["article"]
    payment = [t for t in orders["transfers"] if t["recipient"] == "payment_providers"]
    assert payment == []  # within Indonesia: no transfer
    retention = {r["id"]: r for r in orders["retention"]}
    assert retention["transactions"]["period"] == "transaction + 10y"
    assert retention["transactions"]["legalSource"] == "kewajiban perpajakan Indonesia (10 tahun)"
    assert {s["id"] for s in orders["systems"]} == {"whatsapp_business", "gmail", "wordpress"}
    page = files["index.html"].decode()
    assert '<html lang="id">' in page
    assert "Pasal 20 ayat (2) huruf b UU PDP" in page
    assert "Singapura" in page  # country names in Indonesian
    # printable and self-contained: no scripts, no external resources
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert "@media print" in page


def test_the_request_log_shows_steps_without_staff_notes(db: Session, fake: Faker) -> None:
    request = handle(db, fake.email())
    files = files_of(bundle_of(db, request))
    log = json.loads(files["request-log.json"])
    timeline = service.timeline(db, request)
    fulfilled = next(e for e in timeline if e.kind == "fulfilled")
    assert [e["hash"] for e in log["events"]] == [
        e.hash for e in timeline if e.sequence <= fulfilled.sequence
    ]
    assert [e["kind"] for e in log["events"]][:3] == ["received", "code_sent", "verified"]
    assert all("note" not in e["details"] for e in log["events"])
    assert all(e["by"] != "staff" for e in log["events"])  # roles, not names
    assert STAFF_NOTE not in files["index.html"].decode()


def test_the_bundle_is_encrypted_at_rest_and_the_person_is_told(db: Session, fake: Faker) -> None:
    email = fake.email()
    request = handle(db, email)
    bundle = bundle_of(db, request)
    raw = db.execute(
        text("SELECT content, sha256, size FROM rights_request_bundle WHERE id = :id"),
        {"id": bundle.id},
    ).one()
    assert raw.content.startswith("jd1:")
    assert "UEsDB" not in raw.content  # no zip (base64 "PK\x03\x04") in clear
    assert raw.sha256 == bundle.sha256 and raw.size == bundle.size
    assert (bundle.expires_at - bundle.created_at).days == 7
    message = db.scalars(
        select(OutboxMessage).where(OutboxMessage.organisation_id == request.organisation_id)
        .order_by(OutboxMessage.id.desc())
    ).first()  # fmt: skip
    assert message is not None and message.channel == "email"
    body = message.payload["text"]
    assert f"/o/la-gelato-academy/requests/{request.reference}/download?k=" in body
    assert "Pasal 32 ayat (1)" in body
    assert service.timeline(db, request)[-1].kind == "fulfilled"
    sent = db.scalars(
        select(AuditEntry).where(
            AuditEntry.target_id == request.reference,
            AuditEntry.action == "rights.request.bundle_ready_sent",
        )
    ).one()
    assert sent.details["sha256"] == bundle.sha256 and sent.details["channel"] == "email"
    response = db.scalars(
        select(RequestAttachment).where(
            RequestAttachment.request_id == request.id,
            RequestAttachment.kind == AttachmentKind.RESPONSE.value,
        )
    ).one()
    assert response.sha256 == sent.details["sha256_text"]
    assert service.verify_timeline(db, request) is None


def test_a_bundle_is_made_only_for_access_and_portability(db: Session, fake: Faker) -> None:
    request = handle(db, fake.email(), right="rectification", outcome={"corrected": ["wordpress"]})
    assert db.scalars(
        select(RequestAttachment).where(RequestAttachment.request_id == request.id)
    ).all()
    assert (
        db.scalars(select(RequestBundle).where(RequestBundle.request_id == request.id)).all() == []
    )


def test_an_edtech_pupil_s_bundle_flags_children_s_data_and_waits_for_staff_to_hand_it_over(
    migrated_engine: Engine, db: Session, fake: Faker
) -> None:
    """MilleaLab identifies pupils by a student number no code can reach: the bundle is made,
    the answer is kept, and the audit says nothing could be delivered (staff hand it over)."""
    with session_factory(migrated_engine)() as session:
        millealab = gelato(session, "millealab")
        scope(session, millealab.id)
        filed = service.file_request(
            session=session,
            organisation=millealab,
            right="access",
            identifier="student_number",
            value=fake.numerify("2026####"),
            received_at=RECEIVED,
        )
        request = filed.request
        assert filed.code is None
        staff = Actor.user(1, "staff")
        service.verify_manually(session, request, actor=staff, reason="nomor induk dicek")
        service.start(session, request, actor=staff, now=RECEIVED)
        for task in service.tasks_of(session, request):
            service.complete_task(session, request, task.id, actor=staff, user_id=None, note=None)
        service.fulfil(session, request, actor=staff, outcome={}, now=RECEIVED + timedelta(hours=2))
        session.commit()
        trail = json.loads(files_of(bundle_of(session, request))["processing-trail.json"])
        number, manifest = service.manifest_in_force(session, millealab)
        assert trail["manifestVersion"] == number
        specific = {c["id"] for p in trail["purposes"] for c in p["categories"] if c["specific"]}
        assert specific == {c.id for c in manifest.data.categories if c.sensitivity == "specific"}
        assert specific  # pupils' data is specific data (Art. 4(2)(e))
        interest = [
            p for p in trail["purposes"] if p["legalBasis"]["basis"] == "legitimate_interest"
        ]
        assert interest and all(p["legalBasis"]["explanation"] for p in interest)
        assert all("Pasal 20 ayat (2) huruf f" in p["legalBasis"]["article"] for p in interest)
        sent = session.scalars(
            select(AuditEntry).where(
                AuditEntry.target_id == request.reference,
                AuditEntry.action == "rights.request.bundle_ready_sent",
            )
        ).one()
        assert sent.details["delivered"] is False and sent.details["channel"] is None


def test_the_bundle_speaks_the_person_s_language(db: Session, fake: Faker) -> None:
    request = handle(db, fake.email(), language="fr")
    page = files_of(bundle_of(db, request))["index.html"].decode()
    assert '<html lang="fr">' in page
    assert "Historique du traitement" in page and "art. 20(2)(b) UU PDP" in page
    assert "Vos données chez" in page
