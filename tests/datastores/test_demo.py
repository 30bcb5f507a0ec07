"""The first run's demo: MilleaLab's example manifest maps its platform database, and the
generated demo school (`jagadata datastore demo-database`) answers requests through it — a
teacher erased with the invoices kept for tax, a pupil's data exported by student number."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import select
from typer.testing import CliRunner

from jagadata.audit.service import Actor
from jagadata.cli import app
from jagadata.config import Settings
from jagadata.datastores import automation
from jagadata.db import session_factory
from jagadata.db.tenancy import scope
from jagadata.orgs.models import Organisation
from jagadata.rights import service
from jagadata.rights.models import RequestAttachment

STAFF = Actor.user(1, "staff")


def _one(url: str, sql: str) -> tuple[object, ...]:
    engine = sa.create_engine(url)
    with engine.connect() as c:
        row = c.exec_driver_sql(sql).one()
    engine.dispose()
    return tuple(row)


def test_the_demo_school_answers_requests_through_the_example_mapping(
    cli_environment: str, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "platform.sqlite3"
    result = CliRunner().invoke(
        app, ["datastore", "demo-database", "millealab", str(path), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    assert "Demo database created and connected as platform_db" in result.output
    again = CliRunner().invoke(
        app, ["datastore", "demo-database", "millealab", str(path), "--lang", "en"]
    )
    assert "Demo database connected as platform_db" in again.output
    url = f"sqlite:///{path}"
    (teacher_email,) = _one(url, "SELECT email FROM teachers WHERE id = 1")
    (nis,) = _one(url, "SELECT nis FROM pupils ORDER BY nis LIMIT 1")

    engine = sa.create_engine(cli_environment)
    with session_factory(engine)() as session:
        organisation = session.scalars(
            select(Organisation).where(Organisation.slug == "millealab")
        ).one()
        scope(session, organisation.id)
        _, manifest = service.manifest_in_force(session, organisation)

        def started(right: str, identifier: str, value: str):  # type: ignore[no-untyped-def]
            request = service.file_request(
                session=session,
                organisation=organisation,
                right=right,  # type: ignore[arg-type]
                identifier=identifier,
                value=value,
                language="id",
            ).request
            service.verify_manually(session, request, actor=STAFF, reason="diperiksa di sekolah")
            service.start(session, request, actor=STAFF)
            session.commit()
            task = next(t for t in service.tasks_of(session, request) if t.system == "platform_db")
            return request, task

        request, task = started("erasure", "email", str(teacher_email).upper())
        run = automation.run_task(session, request, task, manifest)
        tables = {t["table"]: t for t in run.report["tables"]}
        assert tables["invoices"] == {
            "table": "invoices",
            "found": 3,
            "masked": 3,
            "restricted": 3,
            "reason": "Faktur disimpan 10 tahun untuk kewajiban perpajakan",
            "legal_source": "UU KUP Pasal 28 ayat (11)",
        }
        assert tables["activity_log"]["deleted"] == 6
        assert tables["teachers"]["masked"] == 1

        request, task = started("access", "student_number", str(nis))
        automation.run_task(session, request, task, manifest)
        attachment = session.scalars(
            select(RequestAttachment).where(RequestAttachment.request_id == request.id)
        ).one()
        with zipfile.ZipFile(io.BytesIO(base64.b64decode(attachment.content))) as archive:
            data = json.loads(archive.read("data.json"))
    engine.dispose()
    assert [r["nis"] for r in data["tables"]["pupils"]["rows"]] == [nis]
    assert len(data["tables"]["guardians"]["rows"]) == 1
    assert len(data["tables"]["assessments"]["rows"]) == 4
    assert data["tables"]["teachers"]["row_count"] == 0
    assert _one(url, "SELECT count(*) FROM invoices WHERE restricted") == (3,)
