"""Words the policy is written with: lists, dates, countries, durations and citations per language.

Babel supplies the locale data (list patterns, month names, country names), so the output depends
only on the manifest and the installed Babel, never on the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Final, Literal
from urllib.parse import urljoin

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list

from jagadata.law.articles import art, cite_all
from jagadata.manifest.commitments import Deadline
from jagadata.manifest.describe import describe_duration
from jagadata.manifest.schema import Calendar, Manifest
from jagadata.manifest.types import Duration, Text
from jagadata.policy.labels import _t

_BABEL_LOCALES: Final = {"id": "id", "en": "en_GB", "fr": "fr"}
_CONJUNCTIONS: Final = {
    "standard": {"id": " dan ", "en": " and ", "fr": " et "},
    "or": {"id": " atau ", "en": " or ", "fr": " ou "},
}


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Words:
    """Localised helpers the templates call: joining lists, citing articles."""

    lang: str

    def join(
        self, items: list[str] | tuple[str, ...], style: Literal["standard", "or"] = "standard"
    ) -> str:
        """'A, B and C'; joined with semicolons when an item has its own comma or conjunction."""
        items = [item for item in items if item]
        if not items:
            return ""
        conjunction = _CONJUNCTIONS[style][self.lang]
        if len(items) > 1 and any(conjunction in item or ", " in item for item in items):
            return "; ".join(items)
        return format_list(items, style=style, locale=_BABEL_LOCALES[self.lang])

    @property
    def colon(self) -> str:
        """': ' between a label and its value; French puts a no-break space before the colon."""
        return "\u00a0: " if self.lang == "fr" else ": "

    def join_or(self, items: list[str] | tuple[str, ...]) -> str:
        return self.join(items, style="or")

    def cite(self, *shorts: str) -> str:
        return cite_all(tuple(art(short) for short in shorts), self.lang)


def text(value: Text | str | None, lang: str) -> str:
    """The text in `lang`; a plain string (a proper name) reads the same in every language."""
    if isinstance(value, str):
        return value.strip()
    return value.get(lang).strip() if value is not None else ""


def capitalise(words: str) -> str:
    """The first letter in upper case, for a phrase that opens a table cell."""
    return words[:1].upper() + words[1:]


def date_in_words(day: date, lang: str) -> str:
    """'28 April 2026', '28 avril 2026' ('1er' for the first day in French)."""
    words = format_date(day, "long", locale=_BABEL_LOCALES[lang])
    if lang == "fr" and day.day == 1:
        words = "1er" + words[1:]
    return words


@cache
def _territories(lang: str) -> dict[str, str]:
    return dict(Locale.parse(_BABEL_LOCALES[lang]).territories)


def country_names(codes: list[str] | tuple[str, ...], lang: str) -> list[str]:
    names = _territories(lang)
    return [names.get(code, code) for code in codes]


def whatsapp_link(number: str) -> str:
    return "https://wa.me/" + re.sub(r"\D", "", number)


def privacy_centre_url(manifest: Manifest) -> str:
    """The privacy centre, /o/{slug}/, on the site that publishes the policy (else relative)."""
    path = f"/o/{manifest.organisation.slug}/"
    return urljoin(manifest.policy.url, path) if manifest.policy.url else path


def deadline_in_words(deadline: Deadline | None, lang: str) -> str:
    if deadline is None:
        return _t(lang, "no time limit is set; we act without undue delay")
    return _t(lang, "no later than {duration} after we receive the request").format(
        duration=describe_duration(deadline.duration, lang, calendar=deadline.calendar)
    )


def duration_in_words(duration: Duration, lang: str, calendar: Calendar = Calendar.CLOCK) -> str:
    return describe_duration(duration, lang, calendar=calendar)
