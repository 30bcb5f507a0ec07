"""Value types of the manifest: localised text, durations and retention periods.

Durations and retention periods are written as short strings people can read ("24m",
"account_closed + 5y", "until consent_withdrawn") and parsed into structures the rest of
jagadata computes with.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, StringConstraints, model_validator
from pydantic_core import core_schema

from jagadata.i18n import LANGUAGES

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
"""An identifier used to refer to an entry elsewhere in the manifest: lower case, digits, '_'."""

OrgSlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
"""The organisation's address in URLs: /o/{slug}/."""

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2, e.g. ID, SG, US."""


class Text(BaseModel):
    """Text in the manifest's languages; a plain string is Indonesian, the authoritative one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = None
    en: str | None = None
    fr: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_string_is_indonesian(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"id": value}
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        as_object = handler(schema)
        return {
            "anyOf": [{"type": "string", "description": "Indonesian text"}, as_object],
            "description": "Plain text (Indonesian), or {id: ..., en: ..., fr: ...}.",
        }

    def get(self, lang: str) -> str:
        """The text in `lang`, else Indonesian, else any language given."""
        for candidate in (lang, "id", "en", "fr"):
            text = getattr(self, candidate, None) if candidate in LANGUAGES else None
            if text:
                return str(text)
        return ""

    def has(self, lang: str) -> bool:
        return bool(getattr(self, lang, None)) if lang in LANGUAGES else False

    def languages(self) -> tuple[str, ...]:
        return tuple(lang for lang in LANGUAGES if self.has(lang))


_UNIT_WORDS: Final = {
    "h": "h", "hour": "h", "hours": "h", "jam": "h",
    "d": "d", "day": "d", "days": "d", "hari": "d",
    "w": "w", "week": "w", "weeks": "w", "minggu": "w",
    "m": "m", "mo": "m", "month": "m", "months": "m", "bulan": "m", "bln": "m",
    "y": "y", "year": "y", "years": "y", "tahun": "y", "thn": "y",
}  # fmt: skip
_DURATION: Final = re.compile(r"^\s*(\d{1,5})\s*([a-z]+)\s*$")
DurationUnit = Literal["h", "d", "w", "m", "y"]


@dataclass(frozen=True, slots=True, order=False)
class Duration:
    """A length of time in one unit: hours, days, weeks, calendar months or calendar years."""

    amount: int
    unit: DurationUnit

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.match(text.lower())
        unit = _UNIT_WORDS.get(match.group(2)) if match else None
        if not match or unit is None:
            raise ValueError(
                f"not a duration: {text!r}; write a number and a unit, "
                "e.g. 72h, 30d, 2w, 24m (months) or 5y"
            )
        return cls(int(match.group(1)), unit)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    @property
    def approx_hours(self) -> float:
        """For comparing durations of different units (a month counts 30.44 days)."""
        per_unit = {"h": 1.0, "d": 24.0, "w": 168.0, "m": 730.5, "y": 8766.0}
        return self.amount * per_unit[self.unit]

    def after(self, moment: datetime) -> datetime:
        """The moment this long after `moment`, with calendar arithmetic for months and years."""
        if self.unit in ("h", "d", "w"):
            hours = {"h": 1, "d": 24, "w": 168}[self.unit] * self.amount
            return moment + timedelta(hours=hours)
        months = self.amount * (12 if self.unit == "y" else 1)
        year, month, day = _add_months(moment.date(), months)
        return moment.replace(year=year, month=month, day=day)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return _string_type_schema(cls, cls.parse)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": r"^\s*\d{1,5}\s*[a-zA-Z]+\s*$",
            "examples": ["72h", "30d", "24m", "5y"],
            "description": "A number and a unit: h, d, w, m (months), y (years).",
        }


def _add_months(day: date, months: int) -> tuple[int, int, int]:
    total = day.year * 12 + (day.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return year, month, min(day.day, last)


class RetentionStart(StrEnum):
    """The event a retention period is counted from."""

    COLLECTED = "collected"
    ACCOUNT_CLOSED = "account_closed"
    TRANSACTION = "transaction"
    LAST_ACTIVITY = "last_activity"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONTRACT_END = "contract_end"
    PURPOSE_ACHIEVED = "purpose_achieved"


_RETENTION_UNTIL: Final = re.compile(r"^\s*until\s+([a-z_]+)\s*$")
_RETENTION_AFTER: Final = re.compile(r"^\s*([a-z_]+)\s*\+\s*(.+?)\s*$")


@dataclass(frozen=True, slots=True)
class RetentionPeriod:
    """How long data is kept: `duration` after the `start` event ("account_closed + 5y")."""

    start: RetentionStart
    duration: Duration

    @classmethod
    def parse(cls, text: str) -> RetentionPeriod:
        events = ", ".join(e.value for e in RetentionStart)
        lowered = text.strip().lower()
        until = _RETENTION_UNTIL.match(lowered)
        after = _RETENTION_AFTER.match(lowered)
        if until:
            event_name, duration = until.group(1), Duration(0, "d")
        elif after:
            event_name, duration = after.group(1), Duration.parse(after.group(2))
        else:
            try:
                return cls(RetentionStart.COLLECTED, Duration.parse(lowered))
            except ValueError:
                raise ValueError(
                    f"not a retention period: {text!r}; write '24m', "
                    "'account_closed + 5y' or 'until consent_withdrawn'"
                ) from None
        try:
            event = RetentionStart(event_name)
        except ValueError:
            raise ValueError(
                f"unknown start event {event_name!r} in retention period {text!r}; "
                f"use one of: {events}"
            ) from None
        return cls(event, duration)

    @property
    def is_until_event(self) -> bool:
        return self.duration.amount == 0

    def __str__(self) -> str:
        if self.is_until_event:
            return f"until {self.start.value}"
        if self.start is RetentionStart.COLLECTED:
            return str(self.duration)
        return f"{self.start.value} + {self.duration}"

    def ends(self, event_at: datetime) -> datetime:
        """When data whose start event happened at `event_at` must be deleted or anonymised."""
        return self.duration.after(event_at)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return _string_type_schema(cls, cls.parse)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {
            "type": "string",
            "examples": [
                "24m",
                "account_closed + 5y",
                "transaction + 10y",
                "until consent_withdrawn",
            ],
            "description": "A duration from collection ('24m'), a duration after an event "
            "('account_closed + 5y'), or 'until EVENT'. Events: "
            + ", ".join(e.value for e in RetentionStart),
        }


class CookieDuration(StrEnum):
    SESSION = "session"


def _string_type_schema(cls: type, parse: Any) -> core_schema.CoreSchema:
    def validate(value: Any) -> Any:
        if isinstance(value, cls):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(f"a number alone is not enough: add a unit, e.g. '{value}d'")
        if not isinstance(value, str):
            raise ValueError(f"expected text such as '30d', got {type(value).__name__}")
        return parse(value)

    return core_schema.no_info_plain_validator_function(
        validate, serialization=core_schema.plain_serializer_function_ser_schema(str)
    )
