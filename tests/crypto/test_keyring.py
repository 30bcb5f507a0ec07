"""The keyring: what is encrypted opens only with its key and its column; production refuses
to run on a missing or default keyring."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from jagadata.config import Settings
from jagadata.crypto import DecryptionFailed, Keyring, KeyringError, load_keyring


def test_round_trip_and_context_binding() -> None:
    keyring = Keyring.generate()
    token = keyring.encrypt(b"Siti Rahayu", context=b"person.name")
    assert token.startswith(f"jd1:{keyring.active}:")
    assert "Siti" not in token
    assert keyring.decrypt(token, context=b"person.name") == b"Siti Rahayu"
    with pytest.raises(DecryptionFailed, match="belongs elsewhere"):
        keyring.decrypt(token, context=b"person.email")


def test_every_encryption_is_different() -> None:
    keyring = Keyring.generate()
    assert keyring.encrypt(b"x") != keyring.encrypt(b"x")


@pytest.mark.parametrize("position", [10, 25, -1])
def test_a_changed_byte_is_detected(position: int) -> None:
    keyring = Keyring.generate()
    token = keyring.encrypt(b"0812 3456 7890")
    flipped = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
    with pytest.raises(DecryptionFailed):
        keyring.decrypt(flipped)


def test_rotation_keeps_old_keys_readable() -> None:
    old = Keyring.generate()
    token = old.encrypt(b"secret")
    new = old.with_new_active_key()
    assert new.active != old.active
    assert new.decrypt(token) == b"secret"
    assert Keyring.key_id_of(new.encrypt(b"secret")) == new.active
    assert new.lookup_hash("email", "a@b.id") == old.lookup_hash("email", "a@b.id")
    with pytest.raises(KeyringError, match="active key cannot be retired"):
        new.without_key(new.active)
    assert old.active not in new.without_key(old.active).keys


def test_unknown_key_id_says_to_restore_from_backup() -> None:
    token = Keyring.generate().encrypt(b"x")
    with pytest.raises(DecryptionFailed, match="restore it from backup"):
        Keyring.generate().decrypt(token)


def test_json_round_trip_and_broken_files() -> None:
    keyring = Keyring.generate()
    again = Keyring.from_json(keyring.to_json(), source="test", explicit=True)
    assert again.decrypt(keyring.encrypt(b"x")) == b"x"
    with pytest.raises(KeyringError, match="not a valid keyring"):
        Keyring.from_json(json.dumps({"format": 1}), source="k.json", explicit=True)
    zero = json.loads(keyring.to_json())
    zero["keys"] = {"k0": "A" * 43}
    zero["active"] = "k0"
    with pytest.raises(KeyringError, match="all zeros"):
        Keyring.from_json(json.dumps(zero), source="k.json", explicit=True)


def test_development_creates_a_private_keyring_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = load_keyring(settings)
    path = tmp_path / "data" / "keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load_keyring(settings)
    assert second.keys == first.keys and not second.explicit


def test_production_refuses_a_missing_keyring(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="JAGADATA_KEY_FILE"):
        load_keyring(Settings(data_dir=tmp_path, mode="production"))
    assert not (tmp_path / "keys.json").exists()


def test_production_refuses_the_default_keyring_in_the_data_dir(tmp_path: Path) -> None:
    load_keyring(Settings(data_dir=tmp_path))
    with pytest.raises(KeyringError, match="refuses the default keyring"):
        load_keyring(Settings(data_dir=tmp_path, mode="production"))


def test_production_accepts_an_explicit_keyring(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "jagadata-keys.json"
    Keyring.generate().save(path)
    keyring = load_keyring(Settings(data_dir=tmp_path, mode="production", key_file=path))
    assert keyring.explicit
    from_env = load_keyring(
        Settings(data_dir=tmp_path, mode="production", keys=path.read_text(encoding="utf-8"))
    )
    assert from_env.keys == keyring.keys
