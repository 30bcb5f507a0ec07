"""The service refuses to start in production with a missing or default keyring — in one
sentence, with no traceback — and starts with an explicit one."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from jagadata.cli import app as jagadata
from jagadata.config import Settings, get_settings
from jagadata.crypto import Keyring, KeyringError
from jagadata.web.app import create_app


@pytest.mark.parametrize("command", [["serve"], ["worker"]])
def test_commands_refuse_without_a_keyring(
    command: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JAGADATA_MODE", "production")
    monkeypatch.setenv("JAGADATA_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    result = CliRunner().invoke(jagadata, [*command, "--lang", "en"])
    assert result.exit_code == 2
    assert "Cannot start: production mode needs an encryption keyring" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "data" / "keys.json").exists()


def test_app_factory_refuses_the_default_keyring(tmp_path: Path) -> None:
    Keyring.generate().save(tmp_path / "keys.json")  # the default place, in the data dir
    with pytest.raises(KeyringError, match="refuses the default keyring"):
        create_app(Settings(data_dir=tmp_path, mode="production"))


def test_app_factory_starts_with_an_explicit_keyring(tmp_path: Path) -> None:
    keys = tmp_path / "secret" / "keys.json"
    Keyring.generate().save(keys)
    settings = Settings(
        data_dir=tmp_path / "data",
        mode="production",
        key_file=keys,
        database_url=f"sqlite:///{tmp_path / 'j.sqlite3'}",
    )
    assert create_app(settings).state.settings.mode == "production"


def test_the_refusal_reads_in_indonesian(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAGADATA_MODE", "production")
    monkeypatch.setenv("JAGADATA_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    result = CliRunner().invoke(jagadata, ["serve"])
    assert result.exit_code == 2
    assert "Tidak dapat dijalankan: mode produksi memerlukan keyring enkripsi" in result.output
