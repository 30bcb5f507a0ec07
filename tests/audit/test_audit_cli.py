"""`jagadata audit verify|export`: exit 0 when every chain is intact, 1 naming the first broken
link of each broken chain, 2 when the command itself is wrong; exports to a file or stdout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from audit_helpers import append, as_attacker
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from jagadata.audit.models import AuditEntry
from jagadata.cli.audit import app
from jagadata.db import make_engine, session_factory
from jagadata.db.migrate import upgrade
from jagadata.i18n import gettext
from jagadata.orgs.models import Organisation


@pytest.fixture
def trail(cli_environment: str) -> Iterator[sessionmaker[Session]]:
    """The CLI's database, with toko-a (3 entries), toko-b (2) and 2 system events."""
    engine = make_engine(cli_environment)
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as session:
        now = datetime.now(UTC)
        for slug in ("toko-a", "toko-b"):
            session.add(Organisation(slug=slug, name=slug.title(), created_at=now))
        session.commit()
        rows = session.execute(select(Organisation.slug, Organisation.id))
        ids = {slug: id_ for slug, id_ in rows}
    append(factory, ids["toko-a"], 3)
    append(factory, ids["toko-b"], 2)
    append(factory, None, 2)
    yield factory
    engine.dispose()


def _engine(factory: sessionmaker[Session]) -> Engine:
    bind = factory.kw["bind"]
    assert isinstance(bind, Engine)
    return bind


def test_verify_reports_every_chain_intact(trail: sessionmaker[Session]) -> None:
    result = CliRunner().invoke(app, ["verify", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "toko-a: 3 entries verified; the chain is intact." in result.output
    assert "toko-b: 2 entries verified" in result.output
    assert "system events: 2 entries verified" in result.output


def test_verify_names_the_tampered_entry_and_exits_1(trail: sessionmaker[Session]) -> None:
    as_attacker(
        _engine(trail),
        "UPDATE audit_entry SET details = '{}' WHERE sequence = 2 AND organisation_id = "
        "(SELECT id FROM organisation WHERE slug = 'toko-b')",
    )
    result = CliRunner().invoke(app, ["verify", "--lang", "en"])
    assert result.exit_code == 1
    assert "toko-b: the chain is broken at entry 2: its contents no longer match" in result.output
    assert "toko-a: 3 entries verified" in result.output
    only_a = CliRunner().invoke(app, ["verify", "--org", "toko-a", "--lang", "en"])
    assert only_a.exit_code == 0 and "toko-b" not in only_a.output


def test_verify_speaks_indonesian_by_default(trail: sessionmaker[Session]) -> None:
    result = CliRunner().invoke(app, ["verify", "--org", "toko-a"])
    message = "{chain}: {count} entries verified; the chain is intact."
    assert result.exit_code == 0
    assert gettext("id", message) != message, "messages.po lacks the audit CLI's messages"
    assert gettext("id", message).format(chain="toko-a", count=3) in result.output


def test_an_unknown_organisation_is_a_usage_error(trail: sessionmaker[Session]) -> None:
    for command in (["verify"], ["export"]):
        result = CliRunner().invoke(app, [*command, "--org", "tidak-ada", "--lang", "en"])
        assert result.exit_code == 2
        assert "There is no organisation tidak-ada." in result.output


def test_export_writes_json_lines_to_a_file_and_is_itself_audited(
    trail: sessionmaker[Session], tmp_path: Path
) -> None:
    target = tmp_path / "toko-a.jsonl"
    result = CliRunner().invoke(
        app, ["export", "--org", "toko-a", "--format", "json", "-o", str(target), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["sequence"] for line in target.read_text().splitlines()] == [1, 2, 3]
    assert "Exported 3 entries of toko-a." in result.output
    with trail() as session:
        session.info["all_organisations"] = True
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert (last.action, last.sequence, last.details["entries"]) == ("audit.exported", 4, 3)


def test_export_writes_csv_to_standard_output_within_a_window(
    trail: sessionmaker[Session],
) -> None:
    result = CliRunner().invoke(
        app, ["export", "--org", "toko-b", "--since", "2000-01-01", "--until", "2999-01-01"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("sequence,occurred_at,action")
    assert len(result.stdout.splitlines()) == 3


def test_a_date_that_is_not_one_is_refused(trail: sessionmaker[Session]) -> None:
    result = CliRunner().invoke(
        app, ["export", "--org", "toko-a", "--since", "kemarin", "--lang", "en"]
    )
    assert result.exit_code == 2
    assert "Not a date or time: kemarin." in result.output
