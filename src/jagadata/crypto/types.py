"""Column types that keep personal data and secrets encrypted at rest, transparently.

`EncryptedText("outbox_message.recipient")`: the label is bound into each ciphertext, so a
value copied into another column cannot be decrypted there.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from jagadata.crypto.keyring import Keyring, forget_keyrings, get_keyring


def _keyring_for(token: str) -> Keyring:
    """The keyring that can open `token`: reloaded once if another process rotated keys."""
    keyring = get_keyring()
    key_id = Keyring.key_id_of(token)
    if key_id is not None and key_id not in keyring.keys:
        forget_keyrings()
        keyring = get_keyring()
    return keyring


class EncryptedText(TypeDecorator[str]):
    impl = Text
    cache_ok = True

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    @property
    def context(self) -> bytes:
        return self.label.encode()

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return get_keyring().encrypt(value.encode("utf-8"), context=self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _keyring_for(value).decrypt(value, context=self.context).decode("utf-8")


class EncryptedJSON(TypeDecorator[Any]):
    impl = Text
    cache_ok = True

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    @property
    def context(self) -> bytes:
        return self.label.encode()

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        plain = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return get_keyring().encrypt(plain.encode("utf-8"), context=self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(_keyring_for(value).decrypt(value, context=self.context))


ENCRYPTED_TYPES = (EncryptedText, EncryptedJSON)
