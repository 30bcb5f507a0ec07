"""The evidence dossier (SQLite and PostgreSQL): every timeline step with its hash as stored,
the chain's verification (and a tampered timeline shown as broken), attachments' hashes
rechecked, the response sent, the copies and their erasure; the contact stays withheld unless
asked for."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session
from test_bundle_support import RECEIVED, STAFF, STAFF_NOTE, bundle_of, db, fake, gelato, handle

from jagadata.rights import service
from jagadata.rights.dossier import build_dossier, render_html, write_dossier
from jagadata.rights.models import RightsRequest
from jagadata.rights.states import PauseReason

__all__ = ["db", "fake"]


def tamper(db: Session, database_url: str, request: RightsRequest, sequence: int) -> None:
    """What someone with database access might do: drop the guard, rewrite one step."""
    drop = (
        "DROP TRIGGER rights_request_event_no_update"
        if database_url.startswith("sqlite")
        else "DROP TRIGGER rights_request_event_append_only ON rights_request_event"
    )
    db.execute(text(drop))
    db.execute(
        text(
            "UPDATE rights_request_event SET actor_label = 'someone else' "
            "WHERE request_id = :id AND sequence = :sequence"
        ),
        {"id": request.id, "sequence": sequence},
    )
    db.commit()
    db.expire_all()


def test_the_dossier_holds_every_step_with_its_hash_and_the_chain_verifies(
    web: TestClient, db: Session, fake: Faker, tmp_path: Path
) -> None:
    email = fake.email()
    request = handle(db, email, exports={"chat.txt": b"halo"})
    json_path, html_path, dossier = write_dossier(db, request, tmp_path / "out")
    assert json.loads(json_path.read_text(encoding="utf-8")) == json.loads(
        json.dumps(dossier, default=str)
    )
    events = service.timeline(db, request)
    assert [(e["sequence"], e["kind"], e["hash"], e["prevHash"]) for e in dossier["timeline"]] == [
        (e.sequence, e.kind, e.hash, e.prev_hash) for e in events
    ]
    assert dossier["chain"] == {
        "intact": True,
        "brokenAt": None,
        "entries": len(events),
        "lastHash": events[-1].hash,
    }
    assert dossier["onTime"] is True
    assert dossier["timeline"][-1]["actorLabel"] == "staff"  # who, by their label
    assert [v["purpose"] for v in dossier["verification"]] == ["identity"]
    assert dossier["verification"][0]["usedAt"] is not None
    kinds = sorted(a["kind"] for a in dossier["attachments"])
    assert kinds == ["export", "response"] and all(a["hashMatches"] for a in dossier["attachments"])
    assert request.reference in dossier["responses"][0]["text"]
    bundle = bundle_of(db, request)
    assert dossier["bundles"][0]["sha256"] == bundle.sha256
    assert dossier["bundles"][0]["copyErased"] is False
    actions = [a["action"] for a in dossier["audit"]]
    assert actions[0] == "rights.request.received" and "rights.bundle.created" in actions
    assert "rights.request.bundle_ready_sent" in actions
    # the person's contact stays withheld; the dossier names them by keyed hash
    html = html_path.read_text(encoding="utf-8")
    for document in (json_path.read_text(encoding="utf-8"), html):
        assert email not in document
        assert request.subject_ref in document
    assert "Utuh" in html and '<html lang="id">' in html
    assert "<script" not in html and "<link" not in html
    assert STAFF_NOTE in json_path.read_text(encoding="utf-8")  # staff notes are evidence
    with_contact = build_dossier(db, request, personal_data=True)
    assert with_contact["request"]["contact"] == email


def test_a_tampered_timeline_shows_as_broken(
    web: TestClient, db: Session, fake: Faker, database_url: str
) -> None:
    request = handle(db, fake.email(), right="erasure", outcome={"erased": ["gmail"]})
    tamper(db, database_url, request, 4)
    stored = db.get(RightsRequest, request.id)
    assert stored is not None
    dossier = build_dossier(db, stored, lang="en")
    assert dossier["chain"]["intact"] is False and dossier["chain"]["brokenAt"] == 4
    html = render_html(dossier)
    assert "Broken at entry 4" in html


def test_pauses_and_their_reasons_are_in_the_dossier(
    web: TestClient, db: Session, fake: Faker
) -> None:
    filed = service.file_request(
        session=db,
        organisation=gelato(db),
        right="rectification",
        identifier="email",
        value=fake.email(),
        received_at=RECEIVED,
    )
    request = filed.request
    service.pause(
        db, request, actor=STAFF, reason=PauseReason.AWAITING_INFORMATION,
        now=RECEIVED + timedelta(hours=1),
    )  # fmt: skip
    service.resume(db, request, actor=STAFF, now=RECEIVED + timedelta(hours=4))
    db.commit()
    dossier = build_dossier(db, request, lang="en")
    assert dossier["pauses"] == [
        {
            "reason": "awaiting_information",
            "startedAt": (RECEIVED + timedelta(hours=1)).isoformat(),
            "endedAt": (RECEIVED + timedelta(hours=4)).isoformat(),
        }
    ]
    assert [e["kind"] for e in dossier["timeline"]][-2:] == ["paused", "resumed"]
    assert dossier["responses"] == [] and dossier["onTime"] is None
    assert "awaiting_information" in render_html(dossier)
