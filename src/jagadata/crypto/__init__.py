"""Encryption at rest (AES-256-GCM, rotating key ids) and keyed lookup hashes (HMAC-SHA256)."""

from jagadata.crypto.keyring import (
    DecryptionFailed,
    Keyring,
    KeyringError,
    forget_keyrings,
    get_keyring,
    load_keyring,
)
from jagadata.crypto.types import ENCRYPTED_TYPES, EncryptedJSON, EncryptedText

__all__ = [
    "ENCRYPTED_TYPES",
    "DecryptionFailed",
    "EncryptedJSON",
    "EncryptedText",
    "Keyring",
    "KeyringError",
    "forget_keyrings",
    "get_keyring",
    "load_keyring",
]
