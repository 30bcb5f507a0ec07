"""`jagadata banner build ORG -o DIR`: the static banner for a site jagadata does not host, its
recording address at the service's base_url, and clear refusals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jagadata.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def published(cli_environment: str) -> str:
    result = runner.invoke(app, ["org", "add", str(ROOT / "examples" / "la-gelato-academy.yaml")])
    assert result.exit_code == 0, result.output
    return cli_environment


def test_build_writes_the_banner_its_gpc_statement_and_a_readme(
    published: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jagadata.config import get_settings

    monkeypatch.setenv("JAGADATA_BASE_URL", "https://privasi.contoh.example")
    get_settings.cache_clear()
    out = tmp_path / "site" / "jagadata"
    result = runner.invoke(app, ["banner", "build", "la-gelato-academy", "-o", str(out)])
    assert result.exit_code == 0, result.output
    script = (out / "banner.js").read_text(encoding="utf-8")
    config = json.loads(re.search(r"var C = (\{.*?\}), K = ", script).group(1))  # type: ignore[union-attr]
    assert config["api"] == (
        "https://privasi.contoh.example/api/v1/orgs/la-gelato-academy/banner/choices"
    )
    assert [c["k"] for c in config["c"]] == ["essential", "preference", "analytics", "marketing"]
    assert json.loads((out / "gpc.json").read_text())["gpc"] is True
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert '<script src="/jagadata/banner.js" defer></script>' in readme
    assert 'data-category="analytics"' in readme
    assert "banner.js" in result.output and "gzip" in result.output
    assert not list(out.glob(".*"))  # no temporary file left behind


def test_a_local_base_url_is_pointed_out(published: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["banner", "build", "la-gelato-academy", "-o", str(tmp_path / "b"), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    assert "JAGADATA_BASE_URL is http://127.0.0.1:8000" in result.output


def test_an_unknown_organisation_is_refused(published: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["banner", "build", "toko-tidak-ada", "-o", str(tmp_path / "b"), "--lang", "en"]
    )
    assert result.exit_code == 2
    assert "There is no organisation toko-tidak-ada." in result.output
    assert "jagadata org list" in result.output
    assert not (tmp_path / "b").exists()


def test_a_file_in_the_way_is_refused(published: str, tmp_path: Path) -> None:
    target = tmp_path / "banner"
    target.write_text("not a directory")
    result = runner.invoke(app, ["banner", "build", "la-gelato-academy", "-o", str(target)])
    assert result.exit_code == 2
    assert str(target) in result.output.replace("\n", "")
    assert target.read_text() == "not a directory"
