"""The keyring: AES-256-GCM keys with ids (so they can rotate) and a key for lookup hashes.

Ciphertexts read `jd1:<key id>:<base64url(nonce || ciphertext || tag)>`; the column a value
belongs to is bound in as associated data, so a ciphertext moved to another column fails.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jagadata.config import Settings, get_settings
from jagadata.i18n import N_, gettext

PREFIX: Final = "jd1"
KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
FORMAT: Final = 1
log = logging.getLogger(__name__)


class KeyringError(Exception):
    """The keyring is missing, unreadable or unsafe; the message says what to do.

    The message is an English msgid with {placeholders}: `str()` reads it in English,
    `in_language(lang)` in the reader's language.
    """

    def __init__(self, message: str, **values: object) -> None:
        self.message, self.values = message, values
        super().__init__(message.format(**values))

    def in_language(self, lang: str) -> str:
        return gettext(lang, self.message).format(**self.values)


class DecryptionFailed(KeyringError):
    """A ciphertext was altered, belongs to another column, or its key is gone."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key_id() -> str:
    return f"k{datetime.now(UTC):%Y%m%d}{secrets.token_hex(2)}"


@dataclass
class Keyring:
    keys: dict[str, bytes]
    active: str
    lookup_key: bytes
    source: str = "memory"
    explicit: bool = True
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyringError(N_("the active key {key} is not in the keyring"), key=self.active)
        for key_id, key in {**self.keys, "lookup": self.lookup_key}.items():
            if len(key) != KEY_BYTES:
                raise KeyringError(
                    N_("key {key} must be {size} bytes, not {actual}"),
                    key=key_id,
                    size=KEY_BYTES,
                    actual=len(key),
                )
            if key == bytes(KEY_BYTES):
                raise KeyringError(N_("key {key} is all zeros: generate a real key"), key=key_id)

    @classmethod
    def generate(cls, *, source: str = "memory", explicit: bool = True) -> Keyring:
        key_id = new_key_id()
        return cls(
            keys={key_id: secrets.token_bytes(KEY_BYTES)},
            active=key_id,
            lookup_key=secrets.token_bytes(KEY_BYTES),
            source=source,
            explicit=explicit,
        )

    # --- encryption -------------------------------------------------------------------------

    def _cipher(self, key_id: str) -> AESGCM:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            if key_id not in self.keys:
                raise DecryptionFailed(
                    N_("key {key} is not in the keyring ({source}); restore it from backup"),
                    key=key_id,
                    source=self.source,
                )
            cipher = self._ciphers[key_id] = AESGCM(self.keys[key_id])
        return cipher

    def encrypt(self, plaintext: bytes, *, context: bytes = b"") -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher(self.active).encrypt(nonce, plaintext, context)
        return f"{PREFIX}:{self.active}:{_b64(nonce + sealed)}"

    def decrypt(self, token: str, *, context: bytes = b"") -> bytes:
        try:
            prefix, key_id, body = token.split(":", 2)
            raw = _unb64(body)
        except (ValueError, binascii.Error):
            raise DecryptionFailed(N_("not a jagadata ciphertext")) from None
        if prefix != PREFIX or len(raw) < NONCE_BYTES + 16:
            raise DecryptionFailed(N_("not a jagadata ciphertext"))
        try:
            return self._cipher(key_id).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context)
        except InvalidTag:
            raise DecryptionFailed(N_("the ciphertext was altered or belongs elsewhere")) from None

    @staticmethod
    def key_id_of(token: str) -> str | None:
        parts = token.split(":", 2)
        return parts[1] if len(parts) == 3 and parts[0] == PREFIX else None

    # --- lookups ----------------------------------------------------------------------------

    def lookup_hash(self, kind: str, normalised: str) -> str:
        """A keyed hash (HMAC-SHA256) of a normalised identity: find it without storing it."""
        message = kind.encode() + b"\x00" + normalised.encode()
        return hmac.new(self.lookup_key, message, hashlib.sha256).hexdigest()

    # --- storage ----------------------------------------------------------------------------

    def with_new_active_key(self) -> Keyring:
        key_id = new_key_id()
        while key_id in self.keys:
            key_id = new_key_id()
        return Keyring(
            keys={**self.keys, key_id: secrets.token_bytes(KEY_BYTES)},
            active=key_id,
            lookup_key=self.lookup_key,
            source=self.source,
            explicit=self.explicit,
        )

    def without_key(self, key_id: str) -> Keyring:
        if key_id == self.active:
            raise KeyringError(N_("the active key cannot be retired; rotate first"))
        keys = {k: v for k, v in self.keys.items() if k != key_id}
        return Keyring(keys, self.active, self.lookup_key, self.source, self.explicit)

    def to_json(self) -> str:
        document = {
            "format": FORMAT,
            "active": self.active,
            "keys": {key_id: _b64(key) for key_id, key in sorted(self.keys.items())},
            "lookup_key": _b64(self.lookup_key),
        }
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str, explicit: bool) -> Keyring:
        try:
            document: Any = json.loads(text)
            if document.get("format") != FORMAT:
                raise KeyringError(
                    N_("{source}: unknown keyring format {format}"),
                    source=source,
                    format=document.get("format"),
                )
            keys = {str(k): _unb64(str(v)) for k, v in document["keys"].items()}
            return cls(
                keys, str(document["active"]), _unb64(str(document["lookup_key"])), source, explicit
            )
        except KeyringError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
            raise KeyringError(
                N_(
                    "{source} is not a valid keyring ({problem}); restore it from backup — "
                    "without it encrypted data cannot be read"
                ),
                source=source,
                problem=error.__class__.__name__,
            ) from None

    def save(self, path: Path) -> None:
        """Write atomically, readable by the owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(self.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)


def _create_once(path: Path) -> Keyring:
    """Create the development keyring; if another process just did, use theirs."""
    keyring = Keyring.generate(source=str(path), explicit=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Keyring.from_json(path.read_text(encoding="utf-8"), source=str(path), explicit=False)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(keyring.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    log.warning("created a new encryption keyring at %s; back it up with the database", path)
    return keyring


def load_keyring(settings: Settings) -> Keyring:
    """The configured keyring. Development creates one in the data dir; production never does."""
    if settings.keys:
        return Keyring.from_json(settings.keys, source="JAGADATA_KEYS", explicit=True)
    path = settings.effective_key_file
    explicit = settings.key_file is not None
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise KeyringError(
                N_("cannot read the keyring {path}: {reason}"), path=path, reason=error.strerror
            ) from None
        keyring = Keyring.from_json(text, source=str(path), explicit=explicit)
    elif settings.mode == "production":
        raise KeyringError(
            N_(
                "production mode needs an encryption keyring: set JAGADATA_KEY_FILE to a keyring "
                "file kept outside the data directory (create one with `jagadata keys init FILE`) "
                "or JAGADATA_KEYS to its JSON"
            )
        )
    else:
        keyring = _create_once(path)
    if settings.mode == "production" and not keyring.explicit:
        raise KeyringError(
            N_(
                "production mode refuses the default keyring {path}: move it out of the data "
                "directory and set JAGADATA_KEY_FILE (or JAGADATA_KEYS)"
            ),
            path=path,
        )
    return keyring


_KEYRINGS: dict[tuple[str | None, str, bool, str], Keyring] = {}
_LOCK = threading.Lock()


def get_keyring(settings: Settings | None = None) -> Keyring:
    """The keyring for these settings (the process's by default), loaded once."""
    settings = settings or get_settings()
    cache_key = (
        settings.keys,
        str(settings.effective_key_file.resolve()),
        settings.key_file is not None,
        settings.mode,
    )
    with _LOCK:
        keyring = _KEYRINGS.get(cache_key)
        if keyring is None:
            keyring = _KEYRINGS[cache_key] = load_keyring(settings)
    return keyring


def forget_keyrings() -> None:
    """Drop cached keyrings (after a rotation, or between tests)."""
    with _LOCK:
        _KEYRINGS.clear()
