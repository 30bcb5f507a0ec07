"""`jagadata policy render` and `jagadata policy diff`: output, files and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from policy_helpers import ROOT
from typer.testing import CliRunner

from jagadata.cli import app
from jagadata.config import get_settings

GELATO = ROOT / "examples" / "la-gelato-academy.yaml"
MILLEALAB = ROOT / "examples" / "millealab.yaml"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _messages_in_english(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("JAGADATA_LANG", "en")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["policy", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_render_writes_the_policy_to_stdout() -> None:
    code, out, _ = run("render", str(GELATO), "--lang", "id", "--format", "md")
    assert code == 0
    assert out.startswith("# Kebijakan Privasi La Gelato Academy\n")
    code, out, _ = run("render", str(GELATO), "--lang", "fr")
    assert code == 0 and out.startswith('<!doctype html>\n<html lang="fr">')


def test_render_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "kebijakan-privasi.html"
    code, out, err = run("render", str(MILLEALAB), "-o", str(target))
    assert code == 0 and out == ""
    assert target.read_text(encoding="utf-8").count('<section id="') == 17
    assert str(target) in err


def test_a_language_the_manifest_does_not_publish_exits_2(tmp_path: Path) -> None:
    only_indonesian = tmp_path / "hanya-id.yaml"
    only_indonesian.write_text(
        GELATO.read_text(encoding="utf-8").replace("languages: [id, en, fr]", "languages: [id]"),
        encoding="utf-8",
    )
    code, out, err = run("render", str(only_indonesian), "--lang", "fr")
    assert code == 2 and out == ""
    assert "not published in “fr”" in err and "Languages in" in err and ": id." in err
    code, _, _ = run("render", str(only_indonesian), "--lang", "id")
    assert code == 0


def test_an_invalid_manifest_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "rusak.yaml"
    broken.write_text("jagadata: 1\norganisation: {}\n", encoding="utf-8")
    assert run("render", str(broken))[0] == 2
    assert run("diff", str(GELATO), str(broken))[0] == 2


def test_diff_exits_0_without_material_changes_and_1_with_them() -> None:
    code, out, _ = run("diff", str(GELATO), str(GELATO))
    assert code == 0 and out.strip() == "No changes to the policy."
    code, out, _ = run("diff", str(GELATO), str(MILLEALAB), "--lang", "id")
    assert code == 1
    assert out.splitlines()[0].startswith("MATERIAL ")
    assert "Pasal 21 ayat (2) UU PDP" in out.splitlines()[-1]


def test_diff_as_json(tmp_path: Path) -> None:
    shorter = tmp_path / "lebih-singkat.yaml"
    shorter.write_text(
        GELATO.read_text(encoding="utf-8").replace("period: 24m", "period: 12m"), encoding="utf-8"
    )
    code, out, _ = run("diff", str(GELATO), str(shorter), "--format", "json", "--lang", "fr")
    assert code == 0
    data = json.loads(out)
    assert data["material"] is False
    (change,) = data["changes"]
    assert change["area"] == "retention" and "12 mois" in change["description"]


def test_output_does_not_depend_on_hash_seeds(tmp_path: Path) -> None:
    """Set and dict order vary with PYTHONHASHSEED; the published bytes must not."""
    outputs = []
    for seed in ("1", "4242"):
        environment = {**os.environ, "PYTHONHASHSEED": seed, "JAGADATA_LANG": "id"}
        target = tmp_path / f"policy-{seed}.md"
        subprocess.run(
            [sys.executable, "-c", "from jagadata.cli import main; main()", "policy", "render",
             str(MILLEALAB),
             "--format", "md", "-o", str(target)],
            check=True, env=environment, capture_output=True,
        )
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1] and len(outputs[0]) > 10_000
