"""Translations from the gettext catalogues in `jagadata/locale` (id, en, fr).

Catalogues are kept as .po files in the source tree and compiled in memory on first use,
so there is no build step and no binary file to keep in sync. English is the msgid language;
Indonesian is the authoritative text of everything jagadata publishes.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterable
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR: Final = Path(__file__).parent / "locale"
LANGUAGES: Final = ("id", "en", "fr")
DEFAULT_LANGUAGE: Final = "id"
DOMAINS: Final = (
    "messages",
    "checks",
    "policy",
    "web",
    "accounts",
    "console",
    "consent",
    "banner",
    "children",
    "rights",
    "datastores",
    "retention",
    "breach",
    "ropa",
    "ops",
)


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where the language is known."""
    return message


def Np_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular/plural pair for extraction; translate it later with `ngettext`."""
    return singular, plural


@lru_cache(maxsize=32)
def translations(lang: str, domain: str = "messages") -> _gettext.NullTranslations:
    """The compiled catalogue of one language and domain; English falls back to the msgid."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    if lang == "en" or not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=domain)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


class Layered(_gettext.NullTranslations):
    """Several catalogues as one, the first that translates a message winning: a feature's own
    domain over the shared one of the pages it sits in (`web` for the centre, `console`)."""

    def __init__(self, *layers: _gettext.NullTranslations) -> None:
        super().__init__()
        self.layers = layers

    def gettext(self, message: str) -> str:
        for layer in self.layers:
            translated = layer.gettext(message)
            if translated != message:
                return translated
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        untranslated = singular if n == 1 else plural
        for layer in self.layers:
            translated = layer.ngettext(singular, plural, n)
            if translated != untranslated:
                return translated
        return untranslated


def gettext(lang: str, message: str, domain: str = "messages") -> str:
    return translations(normalise_language(lang), domain).gettext(message)


def ngettext(lang: str, singular: str, plural: str, n: int, domain: str = "messages") -> str:
    return translations(normalise_language(lang), domain).ngettext(singular, plural, n)


def normalise_language(lang: str | None) -> str:
    """Map 'id-ID', 'in', 'EN_us' and the like to one of LANGUAGES; Indonesian otherwise."""
    if not lang:
        return DEFAULT_LANGUAGE
    base = lang.replace("_", "-").split("-", 1)[0].strip().lower()
    if base == "in":  # the old ISO 639 code for Indonesian, still sent by some Android phones
        base = "id"
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def negotiate(accept_language: str | None, offered: Iterable[str] = LANGUAGES) -> str:
    """Pick the best offered language from an Accept-Language header (RFC 9110 weights)."""
    offered = [lang for lang in offered if lang in LANGUAGES]
    if not accept_language:
        return offered[0] if offered else DEFAULT_LANGUAGE
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        tag = tag.strip()
        if tag == "*":
            continue
        base = tag.replace("_", "-").split("-", 1)[0].lower()
        base = "id" if base == "in" else base
        if base in offered and weight > 0:
            choices.append((-weight, position, base))
    if not choices:
        return offered[0] if offered else DEFAULT_LANGUAGE
    return min(choices)[2]
