"""`jagadata check`: exit 0 when clean enough, 1 with findings, 2 for an invalid manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jagadata.checks import run_checks
from jagadata.checks.reporters import summary
from jagadata.cli import app
from jagadata.config import get_settings
from jagadata.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[2]
GELATO = ROOT / "examples" / "la-gelato-academy.yaml"
MILLEALAB_2022 = Path(__file__).resolve().parent / "fixtures" / "millealab-2022.yaml"
runner = CliRunner()


def check(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_an_example_passes_with_warnings_only() -> None:
    code, out, _ = check(str(GELATO), "--lang", "en")
    assert code == 0
    assert "WARNING  PDP035" in out and "(Art. 30(1), Art. 32(2)" in out
    expected = summary(run_checks(load_manifest(GELATO), lang="en"), file=str(GELATO), lang="en")
    assert out.rstrip().splitlines()[-1] == expected
    assert "0 errors" in expected


def test_failing_on_warnings_makes_warnings_count() -> None:
    code, _, _ = check(str(GELATO), "--fail-on", "warning", "--lang", "en")
    assert code == 1


def test_errors_fail_and_read_in_indonesian_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAGADATA_LANG", raising=False)
    get_settings.cache_clear()
    code, out, _ = check(str(MILLEALAB_2022))
    get_settings.cache_clear()
    assert code == 1
    assert "KESALAHAN  PDP001  Tujuan 'orders' tidak memiliki dasar pemrosesan." in out
    assert "(Pasal 20 ayat (1), Pasal 20 ayat (2) UU PDP)" in out


def test_an_invalid_manifest_exits_2_with_located_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(GELATO.read_text(encoding="utf-8").replace("legal_form: umkm",
                                                                 "legal_fom: umkm"))
    code, out, err = check(str(broken), "--lang", "en")
    assert code == 2
    assert out == ""
    assert "broken.yaml:" in err and "legal_fom" in err


@pytest.mark.parametrize("output_format", ["json", "sarif"])
def test_machine_formats_print_only_the_document(output_format: str) -> None:
    code, out, _ = check(str(MILLEALAB_2022), "--format", output_format, "--lang", "en")
    assert code == 1
    document = json.loads(out)
    if output_format == "json":
        assert document["summary"]["error"] > 0
    else:
        assert document["version"] == "2.1.0" and document["runs"][0]["results"]


def test_output_file_gets_the_report_and_the_screen_a_summary(tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    code, out, err = check(str(GELATO), "-f", "sarif", "-o", str(target), "--lang", "en")
    assert code == 0
    assert out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["runs"][0]["results"]
    counts = summary(run_checks(load_manifest(GELATO), lang="en"), file="", lang="en")
    assert counts.removeprefix(": ") in err and str(target) in err


def test_text_to_a_file_has_no_colour_codes(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    check(str(GELATO), "-o", str(target), "--lang", "en")
    text = target.read_text(encoding="utf-8")
    assert "\x1b[" not in text and "PDP035" in text


def test_an_unwritable_output_is_explained(tmp_path: Path) -> None:
    code, _, err = check(str(GELATO), "-o", str(tmp_path / "missing" / "r.json"), "-f", "json",
                         "--lang", "en")
    assert code == 2
    assert "Cannot write the report" in err
