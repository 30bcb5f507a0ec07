"""How a person is identified: normalised so that every way of writing it matches.

"Budi@Mail.CO.id " and "budi@mail.co.id" are one email; "0812-3456-7890", "62 812 3456 7890"
and "+6281234567890" are one phone (E.164). jagadata stores a keyed hash of the normalised
form for lookups (`identity_hash`) and the form itself only encrypted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from enum import StrEnum
from typing import Final

import phonenumbers

from jagadata.config import Settings
from jagadata.crypto import get_keyring


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    NIK = "nik"
    REFERENCE = "reference"


class InvalidIdentity(ValueError):
    """The value cannot be an identity of that kind; the message says why, without echoing it."""


_SPACES: Final = re.compile(r"\s+")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_NOISE: Final = re.compile(r"[\s().\-/]")
DEFAULT_REGION: Final = "ID"


def _fold(value: str, case: Callable[[str], str]) -> str:
    """Compatibility form, case folded, no spaces — repeated until stable, since NFKC can
    itself produce a space ('´' becomes ' ́') and removing one can allow a composition."""
    previous = None
    while value != previous:
        previous = value
        value = _SPACES.sub(
            "", unicodedata.normalize("NFKC", case(unicodedata.normalize("NFKC", value)))
        )
    return value


def normalise_email(value: str) -> str:
    """Lower-cased, spaces and Unicode compatibility forms removed."""
    email = _fold(value, str.lower)
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidIdentity("not an email address")
    return email


def normalise_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """E.164, reading '08…' as Indonesian and '62…' without '+' as a country code."""
    digits = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", value))
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("62") and len(digits) >= 10:
        digits = "+" + digits
    if not re.fullmatch(r"\+?\d{6,17}", digits):
        raise InvalidIdentity("not a phone number")
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        raise InvalidIdentity("not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentity("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_nik(value: str) -> str:
    """The 16 digits of a Nomor Induk Kependudukan, separators removed."""
    digits = re.sub(r"[\s.\-]", "", unicodedata.normalize("NFKC", value))
    if not re.fullmatch(r"\d{16}", digits):
        raise InvalidIdentity("a NIK has 16 digits")
    return digits


def normalise_reference(value: str) -> str:
    """A customer or student number: case and spaces do not matter."""
    reference = _fold(value, str.casefold)
    if not reference:
        raise InvalidIdentity("empty reference")
    return reference


_NORMALISERS: Final = {
    IdentityKind.EMAIL: normalise_email,
    IdentityKind.PHONE: normalise_phone,
    IdentityKind.NIK: normalise_nik,
    IdentityKind.REFERENCE: normalise_reference,
}


def normalise_identity(kind: IdentityKind | str, value: str) -> str:
    return _NORMALISERS[IdentityKind(kind)](value)


def identity_hash(kind: IdentityKind | str, value: str, *, settings: Settings | None = None) -> str:
    """The keyed hash jagadata stores to find a person by this identity."""
    kind = IdentityKind(kind)
    return get_keyring(settings).lookup_hash(kind.value, normalise_identity(kind, value))
