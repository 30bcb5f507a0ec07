"""`jagadata backup` on one database, `jagadata restore` on another of the other kind: every
stored value comes back as it was (ciphertext included), every chain verifies, and a backup
changed after it was made is refused or reported."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from faker import Faker
from ops_helpers import GELATO, file_more, populate, stored_rows
from sqlalchemy import Engine, insert, inspect, select
from typer.testing import CliRunner

from jagadata.accounts.models import RateLimitCounter
from jagadata.cli import app
from jagadata.config import get_settings
from jagadata.crypto import forget_keyrings
from jagadata.db import make_engine, session_factory
from jagadata.db.migrate import head_revision, upgrade
from jagadata.db.tenancy import cross_organisation_session
from jagadata.manifest.loader import LoadedManifest
from jagadata.ops.archive import MANIFEST
from jagadata.ops.backup import write_backup
from jagadata.rights.models import RightsRequest
from scratch_databases import scratch_target

ROWS = 60_000

PAIRS = [
    pytest.param(("sqlite", "postgresql"), marks=pytest.mark.postgres, id="sqlite-to-postgresql"),
    pytest.param(("postgresql", "sqlite"), marks=pytest.mark.postgres, id="postgresql-to-sqlite"),
]


@pytest.fixture
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two empty databases: the source (`request.param[0]`) and the target."""
    source_kind, target_kind = request.param
    with ExitStack() as stack:
        engines = []
        for kind, name in ((source_kind, "source"), (target_kind, "target")):
            engine = make_engine(stack.enter_context(scratch_target(kind, tmp_path / name)))
            stack.callback(engine.dispose)
            engines.append(engine)
        yield engines[0], engines[1]


def _run(url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("JAGADATA_DATABASE_URL", url)
    monkeypatch.setenv("JAGADATA_LANG", "en")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, list(args))
    get_settings.cache_clear()
    return result.exit_code, result.output


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _faker() -> Faker:
    faker = Faker("id_ID")
    faker.seed_instance(7)
    return faker


@pytest.mark.parametrize("databases", PAIRS, indirect=True)
def test_a_backup_restored_on_the_other_database_is_the_same_and_verifies(
    databases: tuple[Engine, Engine],
    example_manifests: tuple[LoadedManifest, ...],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    source, target = databases
    populate(source, example_manifests, _faker())
    backup = tmp_path / "jagadata.zip"

    code, output = _run(_url(source), monkeypatch, "backup", "-o", str(backup))
    assert code == 0, output
    assert "keyring is not in the backup" in output
    with zipfile.ZipFile(backup) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        assert manifest["revision"] == head_revision()
        assert manifest["keyring_included"] is False
        assert not any("key" in name and name.endswith(".json") for name in archive.namelist()[:-1])

    code, output = _run(_url(target), monkeypatch, "restore", str(backup))
    assert code == 0, output
    assert "Every chain verifies" in output
    assert "Request timelines checked: 5" in output
    assert stored_rows(target) == stored_rows(source)

    with cross_organisation_session(session_factory(target)) as session:
        contacts = session.scalars(select(RightsRequest.contact)).all()
    assert len(contacts) == 5 and all("@" in contact for contact in contacts), "decrypts"
    before = max(row["id"] for row in stored_rows(target)["rights_request"])
    file_more(target, _faker())  # new rows get ids after the restored ones
    assert max(row["id"] for row in stored_rows(target)["rights_request"]) > before

    code, output = _run(_url(target), monkeypatch, "restore", str(backup))
    assert code == 2
    assert "is not empty" in output and "Nothing was written" in output


@pytest.mark.parametrize("databases", [("sqlite", "sqlite")], indirect=True)
def test_rows_the_database_refuses_stop_the_restore_and_leave_it_empty(
    databases: tuple[Engine, Engine],
    example_manifests: tuple[LoadedManifest, ...],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    source, target = databases
    populate(source, example_manifests, _faker())
    backup = tmp_path / "jagadata.zip"
    assert _run(_url(source), monkeypatch, "backup", "-o", str(backup))[0] == 0
    forged = tmp_path / "forged.zip"
    _rewrite(backup, forged, "rights_request_event", fix_hash=True, field="kind")

    code, output = _run(_url(target), monkeypatch, "restore", str(forged))
    assert code == 2, output
    assert "refused the rows of the table rights_request_event" in output
    assert not any(stored_rows(target).values()), "one transaction: nothing stays"


@pytest.mark.parametrize("databases", [("sqlite", "sqlite")], indirect=True)
def test_a_member_changed_after_the_backup_is_refused_and_nothing_is_written(
    databases: tuple[Engine, Engine],
    example_manifests: tuple[LoadedManifest, ...],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    source, target = databases
    populate(source, example_manifests, _faker())
    backup = tmp_path / "jagadata.zip"
    assert _run(_url(source), monkeypatch, "backup", "-o", str(backup))[0] == 0
    tampered = tmp_path / "tampered.zip"
    member = _rewrite(backup, tampered, "consent_event", fix_hash=False)

    code, output = _run(_url(target), monkeypatch, "restore", str(tampered))
    assert code == 2
    assert member in output and "SHA-256" in output
    assert "Nothing was written" in output
    assert not inspect(target).get_table_names(), "the restore stopped before migrating"


@pytest.mark.parametrize(
    ("databases", "table", "report"),
    [
        (("sqlite", "sqlite"), "audit_entry", "The audit chain of"),
        (("sqlite", "sqlite"), "consent_event", "The consent ledger of la-gelato-academy"),
        (("sqlite", "sqlite"), "rights_request_event", "The timeline of request R-"),
    ],
    indirect=["databases"],
)
def test_a_chain_changed_with_its_hash_recomputed_is_reported_after_the_restore(
    databases: tuple[Engine, Engine],
    table: str,
    report: str,
    example_manifests: tuple[LoadedManifest, ...],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    source, target = databases
    populate(source, example_manifests, _faker())
    backup = tmp_path / "jagadata.zip"
    assert _run(_url(source), monkeypatch, "backup", "-o", str(backup))[0] == 0
    forged = tmp_path / "forged.zip"
    _rewrite(backup, forged, table, fix_hash=True)

    code, output = _run(_url(target), monkeypatch, "restore", str(forged))
    assert code == 1, output
    assert report in output
    assert "does not match what was backed up" in output


def _rewrite(
    backup: Path, copy: Path, table: str, *, fix_hash: bool, field: str | None = None
) -> str:
    """Copy the backup with the first row of `table` changed (and, if asked, its hash
    recomputed in the manifest, as someone covering their tracks would); returns the member."""
    with zipfile.ZipFile(backup) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        entry = next(e for e in manifest["tables"] if e["name"] == table)
        members = {name: archive.read(name) for name in archive.namelist()}
    lines = members[entry["member"]].decode().splitlines(keepends=True)
    row = json.loads(lines[0])
    field = field or {"audit_entry": "action", "consent_event": "purpose"}.get(table, "actor_label")
    row[field] = "forged"
    lines[0] = json.dumps(row, separators=(",", ":")) + "\n"
    members[entry["member"]] = "".join(lines).encode()
    if fix_hash:
        entry["sha256"] = hashlib.sha256(members[entry["member"]]).hexdigest()
        members[MANIFEST] = json.dumps(manifest).encode()
    with zipfile.ZipFile(copy, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return str(entry["member"])


def test_a_file_that_is_not_a_backup_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = tmp_path / "photo.zip"
    other.write_bytes(b"not a zip")
    code, output = _run(f"sqlite:///{tmp_path / 'db.sqlite3'}", monkeypatch, "restore", str(other))
    assert code == 2
    assert "cannot be opened as a zip file" in output
    assert GELATO not in output


def test_the_refusal_is_in_indonesian_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = tmp_path / "bukan-cadangan.zip"
    other.write_bytes(b"bukan zip")
    monkeypatch.setenv("JAGADATA_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["restore", str(other)])
    get_settings.cache_clear()
    assert result.exit_code == 2
    assert "tidak dapat dibuka sebagai zip" in result.output
    assert "Tidak ada yang ditulis ke basis data" in result.output


def _older(manifest: dict[str, Any]) -> None:
    manifest["revision"] = "0001"


def _without_outbox(manifest: dict[str, Any]) -> None:
    manifest["tables"] = [e for e in manifest["tables"] if e["name"] != "outbox_message"]


@pytest.mark.parametrize(
    ("databases", "change", "refusal"),
    [
        (("sqlite", "sqlite"), _older, "made at migration revision 0001"),
        (("sqlite", "sqlite"), _without_outbox, "lacks tables this revision has (outbox_message)"),
    ],
    indirect=["databases"],
)
def test_a_backup_of_another_revision_or_missing_a_table_is_refused_before_the_target_is_touched(
    databases: tuple[Engine, Engine],
    change: Callable[[dict[str, Any]], None],
    refusal: str,
    example_manifests: tuple[LoadedManifest, ...],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    source, target = databases
    populate(source, example_manifests, _faker())
    backup = tmp_path / "jagadata.zip"
    assert _run(_url(source), monkeypatch, "backup", "-o", str(backup))[0] == 0
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(backup) as archive, zipfile.ZipFile(changed, "w") as copy:
        for name in archive.namelist():
            content = archive.read(name)
            if name == MANIFEST:
                manifest = json.loads(content)
                change(manifest)
                content = json.dumps(manifest).encode()
            copy.writestr(name, content)

    code, output = _run(_url(target), monkeypatch, "restore", str(changed))
    assert code == 2
    assert refusal in output
    assert not inspect(target).get_table_names()


def test_a_backup_streams_rows_instead_of_holding_the_database_in_memory(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'big.sqlite3'}")
    upgrade(engine)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        for start in range(0, ROWS, 5000):
            connection.execute(
                insert(RateLimitCounter),
                [
                    {
                        "scope": "sign_in",
                        "key_hash": hashlib.sha256(str(n).encode()).hexdigest(),
                        "count": n % 10,
                        "window_started_at": now,
                        "locked_until": None,
                        "level": 0,
                        "updated_at": now,
                    }
                    for n in range(start, start + 5000)
                ],
            )
    backup = tmp_path / "big.zip"
    tracemalloc.start()
    try:
        manifest = write_backup(engine, backup)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        engine.dispose()
    entry = next(e for e in manifest.tables if e.name == "rate_limit")
    assert entry.rows == ROWS
    with zipfile.ZipFile(backup) as archive:
        written = archive.getinfo(entry.member).file_size
    assert peak < written / 4, f"{peak} bytes held to write {written} bytes"


@pytest.mark.parametrize("databases", [("sqlite", "sqlite")], indirect=True)
def test_a_backup_restored_with_another_keyring_is_refused(
    databases: tuple[Engine, Engine],
    example_manifests: tuple[LoadedManifest, ...],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    source, target = databases
    populate(source, example_manifests, _faker())
    backup = tmp_path / "jagadata.zip"
    assert _run(_url(source), monkeypatch, "backup", "-o", str(backup))[0] == 0
    monkeypatch.setenv("JAGADATA_DATA_DIR", str(tmp_path / "another-machine"))
    forget_keyrings()  # a new keyring, not the one kept with the backup

    code, output = _run(_url(target), monkeypatch, "restore", str(backup))
    assert code == 2
    assert "this keyring cannot read the encrypted values of the table" in output
    assert "JAGADATA_KEY_FILE" in output
    assert not inspect(target).get_table_names()
