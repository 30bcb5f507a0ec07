"""Passwords: argon2id hashes with parameters that can be raised; a stored hash made with older
parameters is replaced at the next successful sign-in."""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from jagadata.i18n import N_

MIN_LENGTH: Final = 12
MAX_LENGTH: Final = 1024
"""Long enough for any passphrase; bounded so a megabyte of text cannot tie up a worker."""

HASHER: Final = PasswordHasher(
    time_cost=3, memory_cost=64 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)
"""argon2id, t=3 and 64 MiB (RFC 9106's second recommended option, one lane): tens of
milliseconds on a small VPS, costly for whoever steals the table."""


class WeakPassword(ValueError):
    """The new password is refused; `reason` is an English msgid for the catalogue."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_new_password(password: str, *, email: str | None = None) -> None:
    """Length is what matters (NIST SP 800-63B); no composition rules, no forced rotation."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(N_("Use at least 12 characters; a sentence of a few words works well."))
    if len(password) > MAX_LENGTH:
        raise WeakPassword(N_("Use at most 1024 characters."))
    if len(set(password)) < 4:
        raise WeakPassword(N_("This password repeats the same few characters; choose another."))
    if email and password.strip().casefold() in {email.casefold(), email.split("@")[0].casefold()}:
        raise WeakPassword(N_("The password must not be your email address."))


def hash_password(password: str, *, hasher: PasswordHasher = HASHER) -> str:
    return hasher.hash(password)


def verify_password(
    stored: str | None, password: str, *, hasher: PasswordHasher = HASHER
) -> tuple[bool, str | None]:
    """(matches, new hash to store or None). Without a stored hash a dummy one is checked, so an
    unknown account costs as much time as a known one."""
    if len(password) > MAX_LENGTH:
        password = password[:MAX_LENGTH]
    try:
        hasher.verify(stored or _dummy_hash(hasher), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if stored is None:
        return False, None
    if hasher.check_needs_rehash(stored):
        return True, hasher.hash(password)
    return True, None


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_urlsafe(16))
