"""Recognising personal data in sampled values, the Indonesian way.

Each detector looks at one value and says whether it is that kind of data, checking its
structure rather than its shape alone: a NIK's province, date of birth and serial; a phone
number that is valid for Indonesia; a card number's Luhn digit and issuer. `classify_column`
weighs a column's name and its sampled values and returns suggestions with their confidence
and evidence — counts and reasons, never the values themselves — for a person to review
(discovery drafts a mapping; scan reports what the mapping misses).

    classify_column("no_ktp", samples)   # [Suggestion(kind="nik", confidence=0.97, ...)]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Final

import phonenumbers

from jagadata.identities import InvalidIdentity, normalise_email


class Kind(StrEnum):
    NIK = "nik"
    PHONE = "phone"
    EMAIL = "email"
    CARD = "payment_card"
    NPWP = "npwp"
    NAME = "person_name"
    ADDRESS = "address"


# Kode wilayah of the provinces (Permendagri on administrative area codes): the first two
# digits of every NIK.
PROVINCES: Final = frozenset(
    {
        *range(11, 20),  # Aceh .. Kepulauan Bangka Belitung
        21,  # Kepulauan Riau
        *range(31, 37),  # DKI Jakarta .. Banten
        51,
        52,
        53,  # Bali, NTB, NTT
        *range(61, 66),  # Kalimantan
        *range(71, 77),  # Sulawesi
        81,
        82,  # Maluku, Maluku Utara
        *range(91, 97),  # Papua and the provinces formed from it in 2022
    }
)
_NON_DIGITS: Final = re.compile(r"[\s.\-/]")


def _compact(value: str) -> str:
    return _NON_DIGITS.sub("", unicodedata.normalize("NFKC", value.strip()))


def is_nik(value: str) -> bool:
    """16 digits: province, regency and district codes, birth date (day + 40 for women),
    and a serial that is not 0000."""
    digits = _compact(value)
    if len(digits) != 16 or not digits.isdigit():
        return False
    province, regency, district = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    day, month, year = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    serial = int(digits[12:16])
    if province not in PROVINCES or regency == 0 or district == 0 or serial == 0:
        return False
    if day > 40:
        day -= 40
    try:
        date(2000 + year, month, day)  # any century: only the day and month are checked here
    except ValueError:
        return False
    return True


def is_phone(value: str) -> bool:
    """A number valid in Indonesia, however it is written: '0812-3456-7890', '62812…',
    '+62 812 …'."""
    text = unicodedata.normalize("NFKC", value.strip())
    digits = re.sub(r"[\s().\-/]", "", text)
    if not re.fullmatch(r"\+?\d{8,15}", digits):
        return False
    if digits.startswith("62"):
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, "ID")
    except phonenumbers.NumberParseException:
        return False
    if number.country_code != 62:
        return False
    if phonenumbers.is_valid_number(number):
        return True
    # A number from a range the metadata does not know: written as a phone number is (0…,
    # 62…, +62…), an area code or mobile prefix (2-9) after it, 8 to 12 digits long.
    national = str(number.national_number)
    written_as_phone = digits.startswith(("0", "+62"))
    return written_as_phone and national[0] in "23456789" and 8 <= len(national) <= 12


def is_email(value: str) -> bool:
    if "@" not in value or len(value) > 320:
        return False
    try:
        normalise_email(value)
    except InvalidIdentity:
        return False
    return True


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


_CARD_ISSUERS: Final = (
    re.compile(r"^4\d{12}(?:\d{3}){0,2}$"),  # Visa
    re.compile(r"^(?:5[1-5]\d{2}|222[1-9]|22[3-9]\d|2[3-6]\d{2}|27[01]\d|2720)\d{12}$"),  # MC
    re.compile(r"^3[47]\d{13}$"),  # American Express
    re.compile(r"^35(?:2[89]|[3-8]\d)\d{12,15}$"),  # JCB
    re.compile(r"^62\d{14,17}$"),  # UnionPay
    re.compile(r"^6(?:011|5\d{2})\d{12,15}$"),  # Discover
)


def is_card(value: str) -> bool:
    """A payment card number: an issuer's prefix and length, and the Luhn check digit. A
    value that is also a valid Indonesian phone number is not taken for a card."""
    digits = _compact(value)
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        return False
    if not any(issuer.match(digits) for issuer in _CARD_ISSUERS):
        return False
    return luhn_valid(digits) and not is_phone(digits)


_NPWP_FORMATTED: Final = re.compile(r"^\d{2}\.\d{3}\.\d{3}\.\d-\d{3}\.\d{3}$")


def is_npwp(value: str) -> bool:
    """A taxpayer number in its written form 99.999.999.9-999.999 (15 digits); since 2024 an
    individual's NPWP is their NIK, which `is_nik` finds."""
    return bool(_NPWP_FORMATTED.match(value.strip()))


NAME_PARTS: Final = frozenset(
    (  # noqa: SIM905 - a word list reads best as words
        "abdul adi agus ahmad aji andi anggraini anisa ari arif astuti ayu bambang bayu budi "
        "cahya cahyono dani dedi desi dewi dian dimas dwi eko endah fajar fitri gunawan hadi "
        "handayani hartono hasan hendra hidayat ika indah indra irawan joko kartika kurniawan "
        "kusuma lestari lina maya muhammad mulyani nanda nugroho nur nurul permata pratama "
        "prasetyo puspita putra putri rahayu rahmawati ratna rina rini riski rizki santoso "
        "saputra sari setiawan siti sri suharto susanti susilo tri utami wahyu wati widodo "
        "wijaya yanti yuliana yulianti yusuf"
    ).split()
)
_NAME_WORD: Final = re.compile(r"^[A-ZÀ-Ý][a-zà-ÿ'’-]+$")
_TITLE: Final = re.compile(
    r"^(?:dr|drs|dra|drg|ir|h|hj|prof|tgk|r|rr|kh|cut|teuku|s\.\w+|m\.\w+|a\.md|b\.sc)\.?,?$",
    re.IGNORECASE,
)


def _name_words(value: str) -> list[str]:
    words = [w.strip(",") for w in value.replace(",", " ").split()]
    return [w for w in words if w and not _TITLE.match(w)]


def is_person_name(value: str) -> bool:
    """Two to five capitalised words (titles such as Dr. or S.Kom set aside), at least one of
    them a common Indonesian name part: Budi, Siti, Sri, Wijaya…"""
    words = _name_words(value)
    if not 2 <= len(words) <= 5 or not all(_NAME_WORD.match(w) for w in words):
        return False
    return any(w.lower() in NAME_PARTS for w in words)


def looks_like_name(value: str) -> bool:
    """Two to five capitalised words (titles set aside): a name when the column says so."""
    words = _name_words(value)
    return 2 <= len(words) <= 5 and all(_NAME_WORD.match(w) for w in words)


_ADDRESS_MARKERS: Final = re.compile(
    r"(?<!\w)(?:jl\.?|jalan|gg\.?|gang|rt\.?\s*\d+|rw\.?\s*\d+|kel\.?|kelurahan|kec\.?|"
    r"kecamatan|kab\.?|kabupaten|kota|desa|no\.?\s*\d+|blok|\d{5}$)(?!\w)",
    re.IGNORECASE,
)


def is_address(value: str) -> bool:
    """Two or more markers of an Indonesian address: Jl./Gg., RT/RW, Kel./Kec./Kab., Kota,
    No., Blok."""
    return len(_ADDRESS_MARKERS.findall(value)) >= 2


DETECTORS: Final[dict[Kind, Callable[[str], bool]]] = {
    Kind.NIK: is_nik,
    Kind.CARD: is_card,
    Kind.NPWP: is_npwp,
    Kind.EMAIL: is_email,
    Kind.PHONE: is_phone,
    Kind.ADDRESS: is_address,
    Kind.NAME: is_person_name,
}
"""In order of precedence: a value counts for the first kind that recognises it (a NIK is
never also counted as a phone number)."""

COLUMN_HINTS: Final[dict[Kind, re.Pattern[str]]] = {
    Kind.NIK: re.compile(r"(?:^|_)(?:nik|ktp|no_?ktp|nomor_induk_kependudukan)(?:_|$)"),
    Kind.PHONE: re.compile(r"(?:^|_)(?:phone|telp|telepon|hp|no_?hp|handphone|wa|whatsapp|mobile)"),
    Kind.EMAIL: re.compile(r"(?:^|_)(?:e_?mail|surel)(?:_|$)"),
    Kind.CARD: re.compile(r"(?:^|_)(?:card|kartu|cc|pan)(?:_|$)"),
    Kind.NPWP: re.compile(r"(?:^|_)npwp(?:_|$)"),
    Kind.NAME: re.compile(r"(?:^|_)(?:name|nama|full_?name|nama_?lengkap)(?:_|$)"),
    Kind.ADDRESS: re.compile(r"(?:^|_)(?:address|alamat)(?:_|$)"),
}


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A kind of personal data a column probably holds, how sure, and why."""

    kind: Kind
    confidence: float
    matched: int
    sampled: int
    name_hint: bool
    reasons: tuple[str, ...] = field(default=())


MIN_SHARE: Final = 0.6
"""Without a telling column name, most sampled values must match."""
MIN_SHARE_WITH_HINT: Final = 0.3


def classify_column(name: str, values: Iterable[object]) -> list[Suggestion]:
    """Suggestions for one column from its name and sampled values (None and blanks ignored),
    most confident first; empty when nothing personal is recognised."""
    texts = [str(v) for v in values if v is not None and str(v).strip()]
    lowered = name.lower()
    counts = {kind: 0 for kind in DETECTORS}
    name_hint = bool(COLUMN_HINTS[Kind.NAME].search(lowered))
    for text in texts:
        for kind, detector in DETECTORS.items():
            if detector(text) or (kind is Kind.NAME and name_hint and looks_like_name(text)):
                counts[kind] += 1
                break
    suggestions = []
    for kind, matched in counts.items():
        hint = bool(COLUMN_HINTS[kind].search(lowered))
        share = matched / len(texts) if texts else 0.0
        needed = MIN_SHARE_WITH_HINT if hint else MIN_SHARE
        if texts and share >= needed and matched:
            confidence = min(0.99, 0.5 + share / 2 + (0.1 if hint else 0.0))
            reasons = (f"{matched} of {len(texts)} sampled values match",) + (
                ("the column's name suggests it",) if hint else ()
            )
            suggestions.append(
                Suggestion(kind, round(confidence, 2), matched, len(texts), hint, reasons)
            )
        elif hint and not texts:
            suggestions.append(
                Suggestion(
                    kind, 0.4, 0, 0, True, ("the column's name suggests it; no values to sample",)
                )
            )
    return sorted(suggestions, key=lambda s: -s.confidence)


def strongest(suggestions: Sequence[Suggestion]) -> Suggestion | None:
    return suggestions[0] if suggestions else None
