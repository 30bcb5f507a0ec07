"""What erasure writes in a column when the row itself is kept.

A row stays when a legal duty holds it (invoices kept for tax), when a foreign key from a row
that stays still points at it (`ON DELETE RESTRICT`), or when its table is mapped with
`erase: mask`. Its personal columns are then masked per `ColumnMap.mask`, always within the
column's type, length and NOT NULL constraint, which `shape_of` reads from the reflected
database type. A mask that cannot fit is refused by `validate_mask` before anything runs.

    >>> from sqlalchemy import String
    >>> from jagadata.manifest.mapping import ColumnMap, Mask
    >>> email = ColumnMap(name="email", category="contact", mask=Mask.EMAIL)
    >>> shape = shape_of(String(40), nullable=False)
    >>> masked_value(email, shape, "Budi@Example.co.id", key=b"k" * 32)
    'p-5ca8fa40f336ee02e58ba8e@erased.invalid'
    >>> phone = ColumnMap(name="phone", category="contact", mask=Mask.PHONE)
    >>> masked_value(phone, shape, "+62 812-3456-7890", key=b"k" * 32)
    '+62 000-0000-0000'

Rules a reader of an erasure report may ask about:

- A NULL stays NULL whatever the mask.
- `null` on a NOT NULL column writes a neutral value of the column's type instead: '' for
  text, 0 for numbers, 1900-01-01 for dates (1970-01-02 in a MariaDB TIMESTAMP, which holds
  nothing earlier), false for booleans, an empty value for binary and JSON ({}). NOT NULL is
  never violated.
- `pseudonym` is `p-` and the hex HMAC-SHA256 of the old value under the organisation's key,
  cut to the column's length (at least `p-` and 8 hex digits); on integer and decimal
  columns a positive integer from the same hash, at most 2**31-1. The same value under the
  same key gives the same pseudonym in every table, so rows of one person still go together.
- `email` is `p-<hash>@erased.invalid`: a valid address on the reserved `.invalid` domain
  that no mail ever reaches, shortened to fit the column (at least 20 characters; the whole
  hash needs 81, and a short one may repeat in a UNIQUE column of many people).
- `phone` keeps the number's layout and its `+62`, `62` or `0` prefix and writes 0 for every
  other digit. No Indonesian number has a 0 right after its prefix (the 0 is the trunk
  prefix itself), so the result can never be dialled. Only a `62` without `+` on a number of
  11 digits or fewer is not kept: there it would read as a local number of the 0620-0629
  areas, so it becomes `00` as well. Numbers of one layout all mask alike, so a UNIQUE phone
  column needs mask `pseudonym` (or `null`) instead.
- `year` turns a date into 1 January of its year (ISO text 'YYYY-MM-DD…' into 'YYYY-01-01');
  an integer column already holds a year and is kept.
- A text pseudonym, email or phone already masked is left as it is: erasing twice changes
  nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import types as sa_types
from sqlalchemy.dialects import mysql

from jagadata.datastores.errors import MaskImpossible
from jagadata.i18n import N_
from jagadata.manifest.mapping import ColumnMap, Mask


class ColumnKind(StrEnum):
    """The family of a column's database type, as far as masking needs to know it."""

    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    FLOAT = "float"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    BINARY = "binary"
    JSON = "json"
    OTHER = "other"


@dataclass(frozen=True)
class ColumnShape:
    """What a column can hold: its kind, its length and whether it accepts NULL.

    `length` is the most characters of a text column (bytes of a binary one) or the digits of
    a decimal; None when unbounded or unknown. `scale` is a decimal's digits after the point.
    `low` and `high` bound integers (SMALLINT up to 32767, unsigned from 0) and MariaDB
    TIMESTAMP columns (1970 to 2038), where the kind alone would let a value overflow.
    """

    kind: ColumnKind
    length: int | None
    nullable: bool
    scale: int | None = None
    low: int | datetime | None = None
    high: int | datetime | None = None


# The ranges of integer types; an unsigned MariaDB type runs from 0 to twice the top plus one.
_INTEGER_BITS: Final = (
    (mysql.TINYINT, 8),
    (mysql.MEDIUMINT, 24),
    (sa_types.SmallInteger, 16),
    (sa_types.BigInteger, 64),
    (sa_types.Integer, 32),
)
# A MariaDB TIMESTAMP holds 1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC; a day's margin
# keeps every session time zone inside.
_TIMESTAMP_LOW: Final = datetime(1970, 1, 2)
_TIMESTAMP_HIGH: Final = datetime(2038, 1, 18)
_TINYTEXT_BYTES: Final = 255


def shape_of(sa_type: sa_types.TypeEngine[Any], nullable: bool) -> ColumnShape:
    """The shape of a column from its type as SQLAlchemy reflects it on PostgreSQL, MariaDB
    or SQLite. MariaDB's BOOLEAN is a TINYINT(1) and is read as a boolean."""
    if isinstance(sa_type, mysql.TINYINT) and sa_type.display_width == 1:
        return ColumnShape(ColumnKind.BOOLEAN, None, nullable)
    if isinstance(sa_type, sa_types.Boolean):
        return ColumnShape(ColumnKind.BOOLEAN, None, nullable)
    if isinstance(sa_type, sa_types.Enum):
        return ColumnShape(ColumnKind.OTHER, None, nullable)
    if isinstance(sa_type, sa_types.JSON):
        return ColumnShape(ColumnKind.JSON, None, nullable)
    if isinstance(sa_type, sa_types.String):
        length = _TINYTEXT_BYTES if isinstance(sa_type, mysql.TINYTEXT) else sa_type.length
        return ColumnShape(ColumnKind.TEXT, length, nullable)
    if isinstance(sa_type, mysql.YEAR):
        return ColumnShape(ColumnKind.INTEGER, None, nullable, low=1901, high=2155)
    if isinstance(sa_type, sa_types.Integer):
        return _integer_shape(sa_type, nullable)
    if isinstance(sa_type, sa_types.Float):
        return ColumnShape(ColumnKind.FLOAT, None, nullable)
    if isinstance(sa_type, sa_types.Numeric):
        return ColumnShape(ColumnKind.DECIMAL, sa_type.precision, nullable, sa_type.scale or 0)
    if isinstance(sa_type, sa_types.DateTime):
        if isinstance(sa_type, mysql.TIMESTAMP):
            return ColumnShape(
                ColumnKind.DATETIME, None, nullable, low=_TIMESTAMP_LOW, high=_TIMESTAMP_HIGH
            )
        return ColumnShape(ColumnKind.DATETIME, None, nullable)
    if isinstance(sa_type, sa_types.Date):
        return ColumnShape(ColumnKind.DATE, None, nullable)
    if isinstance(sa_type, (sa_types.LargeBinary, sa_types.BINARY, sa_types.VARBINARY)):
        return ColumnShape(ColumnKind.BINARY, sa_type.length, nullable)
    return ColumnShape(ColumnKind.OTHER, None, nullable)


def _integer_shape(sa_type: sa_types.Integer, nullable: bool) -> ColumnShape:
    bits = next(size for kind, size in _INTEGER_BITS if isinstance(sa_type, kind))
    top = 2 ** (bits - 1) - 1
    if getattr(sa_type, "unsigned", False):
        return ColumnShape(ColumnKind.INTEGER, None, nullable, low=0, high=2 * top + 1)
    return ColumnShape(ColumnKind.INTEGER, None, nullable, low=-top - 1, high=top)


FIXED_TOO_LONG: Final = N_(
    "the fixed value has {given} characters but the column holds at most {length}"
)
FIXED_WRONG_TYPE: Final = N_(
    "the fixed value '{value}' cannot be written in a column of type {kind}"
)
FIXED_OUT_OF_RANGE: Final = N_("the fixed value '{value}' is outside what the column can hold")
MASK_WRONG_TYPE: Final = N_("mask '{mask}' cannot be written in a column of type {kind}")
MASK_TOO_SHORT: Final = N_(
    "mask '{mask}' needs room for {needed} characters or digits but the column holds {length}"
)
NO_NEUTRAL_VALUE: Final = N_(
    "the column does not accept NULL and jagadata knows no neutral value of its type to write "
    "instead"
)
NOT_A_DATE: Final = N_(
    "a value in the column is not a date written as YYYY-MM-DD, so mask 'year' cannot keep "
    "only its year"
)
HINT_SHORTER_FIXED: Final = N_("choose mask: null or a shorter fixed value")
HINT_FIXED_OF_TYPE: Final = N_(
    "give a fixed value of the column's type (0 for a number, 1900-01-01 for a date, true or "
    "false) or choose mask: null"
)
HINT_NULL_OR_FIXED: Final = N_("choose mask: null or fixed")
HINT_FIXED_ACCEPTED: Final = N_("choose mask: fixed with a value the column accepts")
HINT_DATE_COLUMN: Final = N_("choose mask: null, or keep dates in a date column")

PSEUDONYM_PREFIX: Final = "p-"
ERASED_DOMAIN: Final = "@erased.invalid"
_PSEUDONYM_MIN_HEX: Final = 8
_EMAIL_MIN_HEX: Final = 5
_EMAIL_MIN_LENGTH: Final = _EMAIL_MIN_HEX + len(ERASED_DOMAIN)
_YEAR_TEXT_LENGTH: Final = len("YYYY-01-01")
_INTEGER_PSEUDONYM_TOP: Final = 2**31 - 1
_NEUTRAL_DATE: Final = date(1900, 1, 1)
_PSEUDONYM_TEXT: Final = re.compile(r"p-[0-9a-f]{8,64}")
_PSEUDONYM_EMAIL: Final = re.compile(r"(p-)?[0-9a-f]{5,64}@erased\.invalid")
_ISO_DATE: Final = re.compile(r"(\d{4})-\d{2}-\d{2}")
_TEXT_KINDS: Final = frozenset({ColumnKind.TEXT})
_PSEUDONYM_KINDS: Final = frozenset({ColumnKind.TEXT, ColumnKind.INTEGER, ColumnKind.DECIMAL})
_YEAR_KINDS: Final = frozenset(
    {ColumnKind.TEXT, ColumnKind.INTEGER, ColumnKind.DATE, ColumnKind.DATETIME}
)


def validate_mask(column: ColumnMap, shape: ColumnShape) -> None:
    """Refuse, before anything runs, a mask the column cannot hold.

    Raises MaskImpossible without `where`: the caller names the datastore, table and column.
    """
    mask = column.mask
    if mask is Mask.KEEP:
        return
    if mask is Mask.NULL:
        if not shape.nullable:
            _neutral(shape)
    elif mask is Mask.FIXED:
        _fixed(column, shape)
    elif mask is Mask.PSEUDONYM:
        _require_kind(mask, shape, _PSEUDONYM_KINDS)
        _require_room(mask, shape)
    elif mask is Mask.EMAIL:
        _require_kind(mask, shape, _TEXT_KINDS)
        _require_length(mask, shape, _EMAIL_MIN_LENGTH)
    elif mask is Mask.PHONE:
        _require_kind(mask, shape, _TEXT_KINDS)
    elif mask is Mask.YEAR:
        _require_kind(mask, shape, _YEAR_KINDS)
        if shape.kind is ColumnKind.TEXT:
            _require_length(mask, shape, _YEAR_TEXT_LENGTH)


def _require_kind(mask: Mask, shape: ColumnShape, kinds: frozenset[ColumnKind]) -> None:
    if shape.kind not in kinds:
        raise MaskImpossible(
            MASK_WRONG_TYPE, hint=HINT_NULL_OR_FIXED, mask=mask.value, kind=shape.kind.value
        )


def _require_length(mask: Mask, shape: ColumnShape, needed: int) -> None:
    if shape.length is not None and shape.length < needed:
        raise MaskImpossible(
            MASK_TOO_SHORT,
            hint=HINT_NULL_OR_FIXED,
            mask=mask.value,
            needed=needed,
            length=shape.length,
        )


def _require_room(mask: Mask, shape: ColumnShape) -> None:
    """A pseudonym needs `p-` and 8 hex digits of text, or one digit before the point."""
    if shape.kind is ColumnKind.TEXT:
        _require_length(mask, shape, len(PSEUDONYM_PREFIX) + _PSEUDONYM_MIN_HEX)
    elif shape.kind is ColumnKind.DECIMAL and shape.length is not None:
        whole = shape.length - (shape.scale or 0)
        if whole < 1:
            raise MaskImpossible(
                MASK_TOO_SHORT, hint=HINT_NULL_OR_FIXED, mask=mask.value, needed=1, length=whole
            )


def changes_value(column: ColumnMap) -> bool:
    """Whether erasure writes anything in the column: `keep` needs no update."""
    return column.mask is not Mask.KEEP


def is_constant(column: ColumnMap, shape: ColumnShape) -> bool:
    """Whether every non-NULL value masks to one value, `constant_for`, so that one set-based
    UPDATE masks many rows (`null`, its neutral fallback, `fixed`). A NULL stays NULL in
    `masked_value`; writing the constant over it as well reveals nothing."""
    return column.mask in (Mask.NULL, Mask.FIXED)


def constant_for(column: ColumnMap, shape: ColumnShape) -> object:
    """The one value a constant mask writes; see `is_constant`."""
    if column.mask is Mask.FIXED:
        return _fixed(column, shape)
    if column.mask is Mask.NULL:
        return None if shape.nullable else _neutral(shape)
    raise ValueError(f"mask {column.mask.value!r} depends on the old value: use masked_value")


def masked_value(column: ColumnMap, shape: ColumnShape, old: object, *, key: bytes) -> object:
    """What erasure writes in place of `old` under the organisation's pseudonym `key`."""
    validate_mask(column, shape)
    if old is None or column.mask is Mask.KEEP:
        return old
    if is_constant(column, shape):
        return constant_for(column, shape)
    if column.mask is Mask.PSEUDONYM:
        return _pseudonym(shape, old, key)
    if column.mask is Mask.EMAIL:
        return _email(shape, str(old), key)
    if column.mask is Mask.PHONE:
        return _phone(str(old))
    return _year(shape, old)


def _neutral(shape: ColumnShape) -> object:
    """The value written for `null` on a NOT NULL column: empty, zero, 1900-01-01 or false."""
    kind = shape.kind
    if kind is ColumnKind.TEXT:
        return ""
    if kind is ColumnKind.INTEGER:
        return 0
    if kind is ColumnKind.DECIMAL:
        return Decimal(0)
    if kind is ColumnKind.FLOAT:
        return 0.0
    if kind is ColumnKind.BOOLEAN:
        return False
    if kind is ColumnKind.DATE:
        return _NEUTRAL_DATE
    if kind is ColumnKind.DATETIME:
        return _not_before(shape, datetime(1900, 1, 1))
    if kind is ColumnKind.BINARY:
        return b""
    if kind is ColumnKind.JSON:
        return {}
    raise MaskImpossible(NO_NEUTRAL_VALUE, hint=HINT_FIXED_ACCEPTED)


def _not_before(shape: ColumnShape, value: datetime) -> datetime:
    """The value, or the earliest the column holds when that is later (MariaDB TIMESTAMP)."""
    if isinstance(shape.low, datetime) and value.replace(tzinfo=None) < shape.low:
        return shape.low.replace(tzinfo=value.tzinfo)
    return value


def _fixed(column: ColumnMap, shape: ColumnShape) -> object:
    """The manifest's fixed value in the column's own type, refused when it cannot fit."""
    value = column.value
    kind = shape.kind
    if kind is ColumnKind.TEXT:
        return _fitting_text(str(value), shape)
    if kind is ColumnKind.BINARY:
        data = str(value).encode()
        if shape.length is not None and len(data) > shape.length:
            raise _too_long(len(data), shape.length)
        return data
    if kind is ColumnKind.JSON:
        return _json_value(value)
    if kind is ColumnKind.OTHER:
        return value
    try:
        typed = _typed(kind, value)
    except (ValueError, InvalidOperation):
        raise MaskImpossible(
            FIXED_WRONG_TYPE, hint=HINT_FIXED_OF_TYPE, value=value, kind=kind.value
        ) from None
    if not _in_range(shape, typed):
        raise MaskImpossible(FIXED_OUT_OF_RANGE, hint=HINT_FIXED_OF_TYPE, value=value)
    return typed


def _json_value(value: str | int | None) -> object:
    """A fixed value for a JSON column: JSON text ('{}', '[]') is the value it spells, any
    other text a JSON string; so `value: "{}"` writes an empty object on every engine."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _fitting_text(text: str, shape: ColumnShape) -> str:
    if shape.length is not None and len(text) > shape.length:
        raise _too_long(len(text), shape.length)
    return text


def _too_long(given: int, length: int) -> MaskImpossible:
    return MaskImpossible(FIXED_TOO_LONG, hint=HINT_SHORTER_FIXED, given=given, length=length)


_BOOLEANS: Final = {"true": True, "1": True, "false": False, "0": False}


def _typed(kind: ColumnKind, value: str | int | None) -> object:
    """The fixed value as the column's Python type; ValueError when it is not one."""
    text = str(value).strip()
    if kind is ColumnKind.INTEGER:
        return int(text)
    if kind is ColumnKind.DECIMAL:
        return Decimal(text)
    if kind is ColumnKind.FLOAT:
        return float(text)
    if kind is ColumnKind.BOOLEAN:
        if text.lower() not in _BOOLEANS:
            raise ValueError(text)
        return _BOOLEANS[text.lower()]
    if kind is ColumnKind.DATE:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text)


def _in_range(shape: ColumnShape, value: object) -> bool:
    if isinstance(value, Decimal):
        if not value.is_finite():
            return False
        if shape.length is None:
            return True
        whole = len(str(abs(int(value)))) if int(value) else 0
        return whole <= shape.length - (shape.scale or 0)
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = shape.low, shape.high
        return not (isinstance(low, int) and value < low) and not (
            isinstance(high, int) and value > high
        )
    if isinstance(value, datetime):
        naive = value.replace(tzinfo=None)
        low, high = shape.low, shape.high
        return not (isinstance(low, datetime) and naive < low) and not (
            isinstance(high, datetime) and naive > high
        )
    return not (isinstance(value, float) and value != value)


def _digest(key: bytes, value: object) -> bytes:
    """HMAC-SHA256 of the value's text: 42 and '42' give the same pseudonym in any table."""
    if isinstance(value, bytes):
        data = value
    elif isinstance(value, date):
        data = value.isoformat().encode()
    else:
        data = str(value).encode()
    return hmac.new(key, data, hashlib.sha256).digest()


def _pseudonym(shape: ColumnShape, old: object, key: bytes) -> object:
    if shape.kind is ColumnKind.TEXT:
        text = str(old)
        if _PSEUDONYM_TEXT.fullmatch(text):
            return text
        hex_digits = _digest(key, old).hex()
        return _cut(PSEUDONYM_PREFIX + hex_digits, shape.length)
    top = _INTEGER_PSEUDONYM_TOP
    if isinstance(shape.high, int):
        top = min(top, shape.high)
    if shape.kind is ColumnKind.DECIMAL and shape.length is not None:
        top = min(top, 10 ** (shape.length - (shape.scale or 0)) - 1)
    number = int.from_bytes(_digest(key, old)[:8], "big") % top + 1
    return Decimal(number) if shape.kind is ColumnKind.DECIMAL else number


def _cut(text: str, length: int | None) -> str:
    return text if length is None else text[:length]


def _email(shape: ColumnShape, old: str, key: bytes) -> str:
    """`p-<hash>@erased.invalid`; the address is hashed lower-cased and trimmed, as matched."""
    if _PSEUDONYM_EMAIL.fullmatch(old):
        return old
    hex_digits = _digest(key, old.strip().lower()).hex()
    local = PSEUDONYM_PREFIX + hex_digits
    if shape.length is not None:
        room = shape.length - len(ERASED_DOMAIN)
        local = local[:room] if room >= len(PSEUDONYM_PREFIX) + _PSEUDONYM_MIN_HEX else ""
        local = local or hex_digits[:room]
    return local + ERASED_DOMAIN


def _phone(old: str) -> str:
    """Every digit after the kept prefix becomes 0; see the module's rules."""
    digits = sum(char.isdigit() for char in old)
    stripped = old.lstrip()
    if stripped.startswith("+62"):
        kept = len(old) - len(stripped) + 3
    elif stripped.startswith("62") and digits >= 12:
        kept = len(old) - len(stripped) + 2
    else:
        kept = 0
    rest = "".join("0" if char.isdigit() else char for char in old[kept:])
    return old[:kept] + rest


def _year(shape: ColumnShape, old: object) -> object:
    if shape.kind is ColumnKind.INTEGER:
        return old
    if isinstance(old, datetime) and shape.kind is ColumnKind.DATETIME:
        return _not_before(shape, datetime(old.year, 1, 1, tzinfo=old.tzinfo))
    year = _year_of(old)
    if shape.kind is ColumnKind.DATE:
        return date(year, 1, 1)
    if shape.kind is ColumnKind.DATETIME:
        return _not_before(shape, datetime(year, 1, 1))
    return f"{year:04d}-01-01"


def _year_of(old: object) -> int:
    """The year of a date, or of ISO text 'YYYY-MM-DD…' (SQLite keeps dates as text)."""
    if isinstance(old, date):
        return old.year
    match = _ISO_DATE.match(str(old).strip())
    if match is None:
        raise MaskImpossible(NOT_A_DATE, hint=HINT_DATE_COLUMN)
    return int(match.group(1))
