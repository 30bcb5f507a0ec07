"""`jagadata org add|update|list|versions` and `jagadata db`: clear Indonesian messages by
default, exit codes a script can rely on, and never a traceback — even with a dead database."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jagadata.cli import app as jagadata
from jagadata.cli.db import app as db_app
from jagadata.i18n import gettext
from jagadata.web.templating import long_date

ROOT = Path(__file__).resolve().parents[2]
GELATO = ROOT / "examples" / "la-gelato-academy.yaml"


def _web(lang: str, message: str) -> str:
    return gettext(lang, message, "web")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_adding_prints_the_version_and_the_privacy_centre_in_indonesian(
    runner: CliRunner, cli_environment: str
) -> None:
    result = runner.invoke(jagadata, ["org", "add", str(GELATO)])
    assert result.exit_code == 0, result.output
    message = (
        "Added {name} ({slug}): version {number}, in force from {date}; policy published "
        "in {languages}."
    )
    assert _web("id", message) != message
    expected = _web("id", message).format(
        name="La Gelato Academy",
        slug="la-gelato-academy",
        number=1,
        date=long_date(date(2026, 4, 28), "id"),
        languages="id, en, fr",
    )
    assert expected in result.output
    assert "http://127.0.0.1:8000/o/la-gelato-academy/" in result.output


def test_adding_twice_says_to_update_instead(runner: CliRunner, cli_environment: str) -> None:
    runner.invoke(jagadata, ["org", "add", str(GELATO)])
    result = runner.invoke(jagadata, ["org", "add", str(GELATO), "--lang", "en"])
    assert result.exit_code == 2
    assert "la-gelato-academy already exists" in result.output
    assert f"jagadata org update {GELATO}" in result.output


def test_add_or_update_reports_an_unchanged_manifest(
    runner: CliRunner, cli_environment: str
) -> None:
    runner.invoke(jagadata, ["org", "add", str(GELATO)])
    result = runner.invoke(jagadata, ["org", "add", str(GELATO), "--or-update", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "the manifest is unchanged (version 1)" in result.output


def test_update_publishes_a_changed_manifest(
    runner: CliRunner, cli_environment: str, tmp_path: Path
) -> None:
    runner.invoke(jagadata, ["org", "add", str(GELATO)])
    changed = tmp_path / "gelato.yaml"
    changed.write_text(
        GELATO.read_text(encoding="utf-8").replace(
            "effective: 2026-04-28", "effective: 2026-12-01"
        ),
        encoding="utf-8",
    )
    result = runner.invoke(jagadata, ["org", "update", str(changed), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Published version 2 of la-gelato-academy" in result.output
    listing = runner.invoke(jagadata, ["org", "versions", "la-gelato-academy", "--lang", "en"])
    assert listing.exit_code == 0, listing.output
    flat = "".join(listing.output.split())
    for effective in (date(2026, 12, 1), date(2026, 4, 28)):
        assert "".join(long_date(effective, "en").split()) in flat


def test_updating_an_unknown_organisation_says_to_add_it(
    runner: CliRunner, cli_environment: str
) -> None:
    result = runner.invoke(jagadata, ["org", "update", str(GELATO), "--lang", "en"])
    assert result.exit_code == 2
    assert f"jagadata org add {GELATO}" in result.output


def test_list_shows_each_organisation_and_its_privacy_centre(
    runner: CliRunner, cli_environment: str
) -> None:
    empty = runner.invoke(jagadata, ["org", "list"])
    assert empty.exit_code == 0
    nothing = _web("id", "No organisation yet. Add one with: jagadata org add MANIFEST")
    assert nothing in empty.output
    runner.invoke(jagadata, ["org", "add", str(GELATO)])
    result = runner.invoke(jagadata, ["org", "list"])
    assert result.exit_code == 0, result.output
    assert "la-gelato-academy" in result.output
    assert "http://127.0.0.1:8000/o/la-gelato-academy/" in result.output


def test_an_invalid_manifest_is_located_and_nothing_is_stored(
    runner: CliRunner, cli_environment: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        GELATO.read_text(encoding="utf-8").replace("legal_form: umkm", "legal_form: kiosk"),
        encoding="utf-8",
    )
    result = runner.invoke(jagadata, ["org", "add", str(broken)])
    assert result.exit_code == 2
    assert f"{broken}:15:" in result.output
    assert "la-gelato-academy" not in runner.invoke(jagadata, ["org", "list"]).output


def test_db_upgrade_and_current(runner: CliRunner, cli_environment: str) -> None:
    behind = runner.invoke(db_app, ["current", "--lang", "en"])
    assert behind.exit_code == 1
    assert "jagadata db upgrade" in behind.output
    upgraded = runner.invoke(db_app, ["upgrade", "--lang", "en"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "is up to date" in upgraded.output
    assert runner.invoke(db_app, ["current"]).exit_code == 0


@pytest.mark.parametrize("command", [["org", "list"], ["org", "add", str(GELATO)], ["serve"]])
def test_a_dead_database_gets_one_clear_sentence_without_password(
    command: list[str], tmp_path: Path
) -> None:
    environment = {
        **os.environ,
        "JAGADATA_DATABASE_URL": "postgresql+psycopg://jaga:s3cret@127.0.0.1:1/pdp",
        "JAGADATA_DATA_DIR": str(tmp_path),
        "JAGADATA_LANG": "id",
    }
    result = subprocess.run(
        [sys.executable, "-c", "from jagadata.cli import main; main()", *command],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "postgresql+psycopg://jaga:***@127.0.0.1:1/pdp" in output
    assert "s3cret" not in output
    assert "Traceback" not in output
    assert _web("id", "Cannot use the database {url}: {reason}.").split("{")[0] in output


def test_a_manifest_with_legal_errors_is_not_published_by_accident(
    runner: CliRunner, cli_environment: str, tmp_path: Path
) -> None:
    unlawful = tmp_path / "unlawful.yaml"
    unlawful.write_text(
        GELATO.read_text(encoding="utf-8").replace(
            "    legal_basis: legal_obligation\n", "    legal_basis: null\n"
        ),
        encoding="utf-8",
    )
    refused = runner.invoke(jagadata, ["org", "add", str(unlawful), "--lang", "en"])
    assert refused.exit_code == 2
    assert "1 error(s) against UU PDP; nothing was published" in refused.output
    assert f"jagadata check {unlawful}" in refused.output
    assert "la-gelato-academy" not in runner.invoke(jagadata, ["org", "list"]).output

    forced = runner.invoke(
        jagadata, ["org", "add", str(unlawful), "--publish-with-errors", "--lang", "en"]
    )
    assert forced.exit_code == 0, forced.output
    assert "jagadata check: 1 error(s)" in forced.output
