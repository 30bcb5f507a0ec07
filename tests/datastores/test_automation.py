"""Requests carried out by the engine: staff start an erasure or access request, the queued run
erases or exports the person's rows in the organisation's database, ticks the task with what
it did, and keeps its journal — on jagadata's SQLite and PostgreSQL, against a real database of
the organisation. A run that died after preparing its report is resumed without a second
change, and its prepared report is the evidence kept."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from faker import Faker
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from jagadata.audit.service import Actor
from jagadata.config import Settings
from jagadata.datastores import automation, engine
from jagadata.datastores.errors import DatastoreError
from jagadata.datastores.models import DatastoreRun, RunStatus
from jagadata.datastores.service import pseudonym_key, store_secret
from jagadata.db import session_factory
from jagadata.db.tenancy import scope
from jagadata.jobs.nudges import pending_nudges
from jagadata.manifest import load_manifest_text
from jagadata.orgs import service as orgs
from jagadata.orgs.models import Organisation
from jagadata.rights import service
from jagadata.rights.models import RequestAttachment, RightsRequest
from jagadata.rights.states import RequestStatus

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "millealab.yaml"
STAFF = Actor.user(1, "staff")

MAPPING: dict[str, Any] = {
    "connection": {"secret": "platform"},
    "tables": [
        {
            "name": "accounts",
            "key": ["id"],
            "identities": [{"column": "email", "kind": "email", "stored": "any_case"}],
            "columns": [
                {"name": "email", "category": "account", "mask": "email"},
                {"name": "full_name", "category": "account", "mask": "pseudonym"},
            ],
        },
        {
            "name": "pupils",
            "key": ["nis"],
            "columns": [
                {"name": "name", "category": "pupil_data", "mask": "pseudonym"},
                {"name": "birth_date", "category": "pupil_data", "mask": "year"},
            ],
            "references": [{"columns": ["account_id"], "table": "accounts"}],
        },
        {
            "name": "scores",
            "key": ["id"],
            "references": [{"columns": ["nis"], "table": "pupils"}],
        },
        {
            "name": "invoices",
            "key": ["id"],
            "columns": [{"name": "payer_name", "category": "transactions", "mask": "pseudonym"}],
            "references": [{"columns": ["account_id"], "table": "accounts"}],
            "hold": {"reason": "Faktur disimpan 10 tahun", "legal_source": "UU KUP Pasal 28(11)"},
        },
    ],
}


def _school(url: str, fake: Faker) -> list[str]:
    """A small platform database: three families; returns their account emails."""
    target = sa.create_engine(url)
    emails = []
    with target.begin() as c:
        c.exec_driver_sql(
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email VARCHAR(120) NOT NULL, "
            "full_name VARCHAR(120))"
        )
        c.exec_driver_sql(
            "CREATE TABLE pupils (nis VARCHAR(12) PRIMARY KEY, account_id INTEGER NOT NULL "
            "REFERENCES accounts(id), name VARCHAR(120), birth_date DATE)"
        )
        c.exec_driver_sql(
            "CREATE TABLE scores (id INTEGER PRIMARY KEY, nis VARCHAR(12) NOT NULL "
            "REFERENCES pupils(nis), subject VARCHAR(40), score INTEGER)"
        )
        c.exec_driver_sql(
            "CREATE TABLE invoices (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL "
            "REFERENCES accounts(id), amount INTEGER, payer_name VARCHAR(120))"
        )
        score_id = 0
        for family in range(1, 4):
            email = fake.unique.email()
            emails.append(email)
            c.execute(
                sa.text("INSERT INTO accounts VALUES (:i, :e, :n)"),
                {"i": family, "e": email.upper() if family == 1 else email, "n": fake.name()},
            )
            for child in range(2):
                nis = f"{family:04d}{child:04d}"
                c.execute(
                    sa.text("INSERT INTO pupils VALUES (:nis, :a, :n, :b)"),
                    {"nis": nis, "a": family, "n": fake.name(), "b": fake.date_of_birth()},
                )
                for subject in ("matematika", "ipa"):
                    score_id += 1
                    c.execute(
                        sa.text("INSERT INTO scores VALUES (:i, :nis, :s, :v)"),
                        {"i": score_id, "nis": nis, "s": subject, "v": 60 + score_id},
                    )
            c.execute(
                sa.text("INSERT INTO invoices VALUES (:i, :a, 250000, :n)"),
                {"i": family, "a": family, "n": fake.name()},
            )
    target.dispose()
    return emails


@pytest.fixture
def fake() -> Faker:
    fake = Faker("id_ID")
    fake.seed_instance(606)
    return fake


@pytest.fixture
def mapped(
    settings: Settings, migrated_engine: Engine, tmp_path: Path, fake: Faker
) -> Iterator[tuple[Session, Organisation, str, list[str]]]:
    """MilleaLab with its platform database mapped, stored as an encrypted secret."""
    url = f"sqlite:///{tmp_path / 'platform.sqlite3'}"
    emails = _school(url, fake)
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    for system in document["systems"]:
        if system["id"] == "platform_db":
            system["datastore"] = MAPPING
    loaded = load_manifest_text(yaml.safe_dump(document, allow_unicode=True), file="mapped.yaml")
    with session_factory(migrated_engine)() as session:
        orgs.update_organisation(session=session, loaded=loaded)
        organisation = session.scalars(
            select(Organisation).where(Organisation.slug == loaded.manifest.organisation.slug)
        ).one()
        scope(session, organisation.id)
        store_secret(session, organisation.id, "platform", url)
        session.commit()
        yield session, organisation, url, emails


def _started(session: Session, organisation: Organisation, right: str, email: str) -> RightsRequest:
    filed = service.file_request(
        session=session,
        organisation=organisation,
        right=right,  # type: ignore[arg-type]
        identifier="email",
        value=f"  {email.title()} ",
        language="id",
    )
    request = filed.request
    service.verify_manually(session, request, actor=STAFF, reason="dikenal lewat aplikasi")
    service.start(session, request, actor=STAFF)
    assert [n.name for n in pending_nudges(session)].count(automation.RUN_JOB) == len(
        service.tasks_of(session, request)
    )
    session.commit()
    return request


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    target = sa.create_engine(url)
    with target.connect() as c:
        rows = [tuple(r) for r in c.exec_driver_sql(sql)]
    target.dispose()
    return rows


def _platform_task(session: Session, request: RightsRequest) -> Any:
    return next(t for t in service.tasks_of(session, request) if t.system == "platform_db")


def test_an_erasure_request_is_carried_out_in_the_database_and_its_task_ticked(
    mapped: tuple[Session, Organisation, str, list[str]],
) -> None:
    session, organisation, url, emails = mapped
    request = _started(session, organisation, "erasure", emails[0])
    _, manifest = service.manifest_in_force(session, organisation)
    task = _platform_task(session, request)

    run = automation.run_task(session, request, task, manifest)

    assert run.status == RunStatus.DONE.value and run.attempts == 1
    tables = {t["table"]: t for t in run.report["tables"]}
    assert tables["scores"]["deleted"] == 4 and tables["pupils"]["deleted"] == 2
    assert tables["invoices"]["masked"] == 1
    assert tables["invoices"]["legal_source"] == "UU KUP Pasal 28(11)"
    assert tables["accounts"]["masked"] == 1  # the held invoice still points at it
    assert _rows(url, "SELECT count(*) FROM pupils WHERE account_id = 1") == [(0,)]
    assert _rows(url, "SELECT count(*) FROM scores") == [(8,)]
    (email,) = _rows(url, "SELECT email FROM accounts WHERE id = 1")[0]
    assert email.endswith("@erased.invalid")
    assert _rows(url, "SELECT email FROM accounts WHERE id = 2") == [(emails[1],)]
    session.refresh(task)
    assert task.done_at is not None and "erase" in (task.note or "")
    assert service.verify_timeline(session, request) is None


def test_an_access_request_attaches_the_export_of_the_person_s_rows(
    mapped: tuple[Session, Organisation, str, list[str]],
) -> None:
    session, organisation, url, emails = mapped
    request = _started(session, organisation, "access", emails[1])
    _, manifest = service.manifest_in_force(session, organisation)
    automation.run_task(session, request, _platform_task(session, request), manifest)

    (attachment,) = session.scalars(
        select(RequestAttachment).where(RequestAttachment.request_id == request.id)
    ).all()
    assert attachment.filename == "platform_db.zip"
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(attachment.content))) as archive:
        data = json.loads(archive.read("data.json"))
    tables = data["tables"]
    assert [r["nis"] for r in tables["pupils"]["rows"]] == ["00020000", "00020001"]
    assert len(tables["scores"]["rows"]) == 4
    assert tables["accounts"]["rows"][0]["email"] == emails[1]
    assert _rows(url, "SELECT count(*) FROM scores") == [(12,)]  # nothing changed


def test_a_run_that_died_after_preparing_keeps_its_report_and_changes_nothing_twice(
    mapped: tuple[Session, Organisation, str, list[str]],
) -> None:
    session, organisation, url, emails = mapped
    request = _started(session, organisation, "erasure", emails[2])
    _, manifest = service.manifest_in_force(session, organisation)
    task = _platform_task(session, request)
    plan = automation.plan_for(manifest, request, task.system)
    run = DatastoreRun(
        organisation_id=organisation.id,
        request_id=request.id,
        system_id=task.system,
        operation=plan.operation.value,
        status=RunStatus.RUNNING.value,
        attempts=1,
        started_at=request.received_at,
    )
    session.add(run)
    session.commit()

    def died(report: Any) -> None:  # the journal was written, then the process died
        run.status = RunStatus.PREPARED.value
        run.report = report.as_dict()
        session.commit()

    with engine.connect(url) as conn:
        first = engine.erase(conn, plan, key=pseudonym_key(organisation.id), before_commit=died)
    after_first = _rows(url, "SELECT * FROM accounts ORDER BY id")

    resumed = automation.run_task(session, request, task, manifest)

    assert resumed.id == run.id and resumed.attempts == 2
    assert resumed.status == RunStatus.DONE.value
    assert resumed.report == first.as_dict()  # the evidence of what the first attempt did
    assert _rows(url, "SELECT * FROM accounts ORDER BY id") == after_first


def test_a_missing_secret_fails_the_run_clearly_and_leaves_the_task_open(
    mapped: tuple[Session, Organisation, str, list[str]],
) -> None:
    session, organisation, url, emails = mapped
    request = _started(session, organisation, "erasure", emails[0])
    _, manifest = service.manifest_in_force(session, organisation)
    task = _platform_task(session, request)
    session.execute(sa.text("DELETE FROM datastore_secret"))
    session.commit()

    with pytest.raises(DatastoreError) as raised:
        automation.run_task(session, request, task, manifest)

    assert "jagadata datastore connect" in raised.value.render("en")
    run = session.scalars(select(DatastoreRun)).one()
    assert run.status == RunStatus.FAILED.value and "platform" in (run.error or "")
    assert "jagadata datastore connect" in automation.error_text(run.error, "id")
    assert "belum ada rahasia koneksi" in automation.error_text(run.error, "id")
    session.refresh(task)
    assert task.done_at is None
    assert request.status == RequestStatus.IN_PROGRESS.value
    assert _rows(url, "SELECT count(*) FROM scores") == [(12,)]


def test_the_plan_command_shows_the_sql_and_changes_nothing(
    mapped: tuple[Session, Organisation, str, list[str]],
    cli_environment: str,
) -> None:
    from jagadata.cli import app

    session, organisation, url, emails = mapped
    request = _started(session, organisation, "erasure", emails[0])
    result = CliRunner().invoke(
        app,
        ["request", "plan", organisation.slug, request.reference, "--lang", "en"],
    )
    assert result.exit_code == 0, result.output
    assert 'FROM "scores"' in result.output and 'DELETE FROM "pupils"' in result.output
    assert emails[0].lower() not in result.output.lower()  # values stay bound, never shown
    assert "Nothing was run" in result.output
    assert _rows(url, "SELECT count(*) FROM scores") == [(12,)]


def test_a_run_in_progress_is_not_run_twice_and_is_taken_over_after_its_lease(
    mapped: tuple[Session, Organisation, str, list[str]],
) -> None:
    session, organisation, url, emails = mapped
    request = _started(session, organisation, "erasure", emails[0])
    _, manifest = service.manifest_in_force(session, organisation)
    task = _platform_task(session, request)
    now = datetime.now(UTC)
    session.add(
        DatastoreRun(
            organisation_id=organisation.id,
            request_id=request.id,
            system_id=task.system,
            operation="erase",
            status=RunStatus.RUNNING.value,
            attempts=1,
            started_at=now,
            lease_until=now + timedelta(minutes=5),
        )
    )
    session.commit()
    with pytest.raises(automation.RunInProgress):
        automation.run_task(session, request, task, manifest)
    assert _rows(url, "SELECT count(*) FROM scores") == [(12,)]

    run = session.scalars(select(DatastoreRun)).one()
    run.lease_until = now - timedelta(seconds=1)  # its worker died
    session.commit()
    taken_over = automation.run_task(session, request, task, manifest)
    assert taken_over.id == run.id and taken_over.status == RunStatus.DONE.value
    assert _rows(url, "SELECT count(*) FROM scores") == [(8,)]


def test_the_reconciler_nudges_database_tasks_nobody_is_doing(
    mapped: tuple[Session, Organisation, str, list[str]], migrated_engine: Engine
) -> None:
    session, organisation, _, emails = mapped
    request = _started(session, organisation, "erasure", emails[0])
    task = _platform_task(session, request)
    later = datetime.now(UTC) + timedelta(minutes=10)
    with session_factory(migrated_engine)() as other:
        found = list(
            automation.stuck_runs(
                session=other, now=later, due_before=later - timedelta(minutes=2), limit=100
            )
        )
    assert found == [(organisation.id, request.id, task.id)]  # the mailbox task is staff's

    _, manifest = service.manifest_in_force(session, organisation)
    session.execute(sa.text("DELETE FROM datastore_secret"))
    session.commit()
    with pytest.raises(DatastoreError):
        automation.run_task(session, request, task, manifest)
    with session_factory(migrated_engine)() as other:
        assert not list(
            automation.stuck_runs(
                session=other, now=later, due_before=later - timedelta(minutes=2), limit=100
            )
        )  # a failed run waits for staff
