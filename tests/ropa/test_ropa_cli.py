"""`jagadata ropa`: the record in three formats, to a file or the screen, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from ropa_readers import Tables, csv_tables, html_tables, xlsx_tables
from typer.testing import CliRunner

from jagadata.cli import app
from jagadata.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[2]
MILLEALAB = ROOT / "examples" / "millealab.yaml"
runner = CliRunner()


@pytest.mark.parametrize(
    ("fmt", "read"), [("html", html_tables), ("csv", csv_tables), ("xlsx", xlsx_tables)]
)
def test_the_record_is_written_to_a_file(
    tmp_path: Path, fmt: str, read: Callable[[bytes], Tables]
) -> None:
    target = tmp_path / f"ropa.{fmt}"
    result = runner.invoke(app, ["ropa", str(MILLEALAB), "--format", fmt, "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    assert str(target) in result.stderr
    tables = read(target.read_bytes())
    purposes = [p.id for p in load_manifest(MILLEALAB).manifest.purposes]
    assert [row[0] for row in tables["activities"]] == purposes


def test_html_goes_to_the_screen_in_the_language_asked_for() -> None:
    result = runner.invoke(app, ["ropa", str(MILLEALAB), "--lang", "fr"])
    assert result.exit_code == 0
    assert "Registre des activités de traitement" in result.stdout
    assert '<html lang="fr">' in result.stdout


def test_a_workbook_needs_a_file() -> None:
    result = runner.invoke(app, ["ropa", str(MILLEALAB), "--format", "xlsx"])
    assert result.exit_code == 2
    assert "-o" in result.stderr and result.stdout == ""


def test_an_unknown_language_is_refused_with_the_choices() -> None:
    result = runner.invoke(app, ["ropa", str(MILLEALAB), "--lang", "de"])
    assert result.exit_code == 2
    assert "id, en, fr" in result.stderr


def test_an_invalid_manifest_is_reported_not_rendered(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(MILLEALAB.read_text(encoding="utf-8").replace("jagadata: 1", "jagadata: 7"))
    result = runner.invoke(app, ["ropa", str(broken)])
    assert result.exit_code == 2
    assert "broken.yaml" in result.stderr and result.stdout == ""
