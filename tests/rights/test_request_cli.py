"""`jagadata request list|dossier` on SQLite and PostgreSQL: the organisation's requests (all or
open only), the dossier written as HTML and JSON, clear errors with exit 2 for an unknown
organisation or reference, and exit 1 when the request's timeline was altered."""

from __future__ import annotations

import json
from pathlib import Path

from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from test_bundle_support import RECEIVED, db, fake, gelato, handle
from test_dossier import tamper
from typer.testing import CliRunner

from jagadata.cli import app
from jagadata.rights import service

__all__ = ["db", "fake"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["request", *args, "--lang", "en"])
    return result.exit_code, result.output


def test_list_shows_every_request_or_only_open_ones(
    cli_environment: str, web: TestClient, db: Session, fake: Faker
) -> None:
    done = handle(db, fake.email())
    waiting = service.file_request(
        session=db,
        organisation=gelato(db),
        right="erasure",
        identifier="email",
        value=fake.email(),
        received_at=RECEIVED,
    ).request
    db.commit()
    code, output = run("list", "la-gelato-academy")
    assert code == 0, output
    assert done.reference in output and waiting.reference in output
    assert "2 request(s)." in output
    code, output = run("list", "la-gelato-academy", "--open")
    assert code == 0 and waiting.reference in output and done.reference not in output
    assert "1 request(s)." in output


def test_dossier_is_written_and_a_broken_timeline_exits_1(
    cli_environment: str, web: TestClient, db: Session, fake: Faker, tmp_path: Path
) -> None:
    email = fake.email()
    request = handle(db, email)
    out = tmp_path / "dossiers"
    code, output = run("dossier", "la-gelato-academy", request.reference, "-o", str(out))
    assert code == 0, output
    assert "The timeline is intact" in output
    written = json.loads((out / f"{request.reference}-dossier.json").read_text(encoding="utf-8"))
    assert written["request"]["reference"] == request.reference
    assert email not in (out / f"{request.reference}-dossier.html").read_text(encoding="utf-8")
    code, _ = run(
        "dossier", "la-gelato-academy", request.reference, "-o", str(out), "--with-personal-data"
    )
    assert code == 0
    assert email in (out / f"{request.reference}-dossier.json").read_text(encoding="utf-8")
    tamper(db, cli_environment, request, 2)
    code, output = run("dossier", "la-gelato-academy", request.reference, "-o", str(out))
    assert code == 1
    assert "broken at entry 2" in output


def test_unknown_organisation_or_reference_is_a_clear_error(
    cli_environment: str, web: TestClient, db: Session, tmp_path: Path
) -> None:
    code, output = run("list", "tidak-ada")
    assert code == 2 and "There is no organisation tidak-ada." in output
    assert "jagadata org list" in output
    code, output = run("dossier", "la-gelato-academy", "R-AAAAAAAA", "-o", str(tmp_path))
    assert code == 2 and "has no request R-AAAAAAAA" in output
    assert "Traceback" not in output
