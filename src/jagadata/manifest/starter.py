"""A commented starter manifest from a few answers, for `jagadata init`.

The starter is complete enough to pass `jagadata check` without errors, and says in comments
(in the person's language) what to review before publishing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import jinja2

from jagadata.i18n import LANGUAGES, N_, gettext

TEMPLATE: Final = Path(__file__).with_name("starter.yaml.j2")

LEGAL_FORMS: Final = ("umkm", "perorangan", "cv", "pt", "pt_perorangan", "koperasi", "yayasan")

CATEGORY_CHOICES: Final = {
    "identity": (N_("Identity"), "direct", (N_("full name"),)),
    "contact": (
        N_("Contact details"),
        "direct",
        (N_("WhatsApp number"), N_("email address"), N_("delivery address")),
    ),
    "orders": (
        N_("Order history"),
        "direct",
        (N_("products bought"), N_("purchase date"), N_("amount paid")),
    ),
    "communications": (N_("Communications"), "direct", (N_("WhatsApp messages"), N_("emails"))),
    "technical": (N_("Technical data"), "automatic", (N_("IP address"), N_("device and browser"))),
    "usage": (N_("Usage data"), "automatic", (N_("pages visited"), N_("time of visit"))),
}
DEFAULT_CATEGORIES: Final = ("identity", "contact", "orders", "communications", "technical")


@dataclass
class Provider:
    """A service that holds data for the organisation: its name and country (ISO code)."""

    name: str
    country: str = "ID"

    @classmethod
    def parse(cls, text: str) -> Provider:
        """'Hostinger:SG' or 'Hostinger' (Indonesia)."""
        name, _, country = text.partition(":")
        country = country.strip().upper() or "ID"
        if not name.strip():
            raise ValueError("a provider needs a name, e.g. 'Hostinger:SG'")
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise ValueError(f"{country!r} is not a two-letter country code such as ID, SG or US")
        return cls(name.strip(), country)


@dataclass
class StarterAnswers:
    name: str
    address: str
    email: str
    legal_form: str = "umkm"
    slug: str | None = None
    whatsapp: str | None = None
    website: str | None = None
    city: str | None = None
    categories: list[str] = field(default_factory=lambda: list(DEFAULT_CATEGORIES))
    hosting: Provider | None = None
    email_provider: Provider | None = None
    marketing: bool = True
    analytics: bool = False
    effective: date = field(default_factory=date.today)

    def resolved_slug(self) -> str:
        return self.slug or slugify(self.name)


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return (slug or "organisasi")[:63].rstrip("-").ljust(2, "0")


def _text(message: str) -> str:
    """A YAML flow mapping {id: ..., en: ..., fr: ...} of one catalogue message."""
    parts = ", ".join(f"{lang}: {_q(gettext(lang, message))}" for lang in LANGUAGES)
    return "{" + parts + "}"


def _q(value: Any) -> str:
    """A YAML scalar that reads back as exactly `value` (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def render_starter(answers: StarterAnswers, *, lang: str) -> str:
    """The starter manifest as YAML text, comments in `lang`."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE.parent),
        extensions=["jinja2.ext.i18n"],
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: gettext(lang, message),
        lambda singular, plural, n: gettext(lang, singular if n == 1 else plural),
        newstyle=True,
    )
    environment.filters["q"] = _q
    environment.globals["tx"] = _text
    categories = [
        {
            "id": key,
            "name": CATEGORY_CHOICES[key][0],
            "source": CATEGORY_CHOICES[key][1],
            "items": CATEGORY_CHOICES[key][2],
        }
        for key in CATEGORY_CHOICES
        if key in answers.categories
    ]
    chosen = {str(c["id"]) for c in categories}
    foreign = [p for p in (answers.hosting, answers.email_provider) if p and p.country != "ID"]
    if answers.whatsapp:
        foreign.append(Provider("WhatsApp Business (Meta)", "US"))
    context = {
        "a": answers,
        "slug": answers.resolved_slug(),
        "categories": categories,
        "has": chosen.__contains__,
        "foreign": foreign,
        "automatic": [c for c in ("technical", "usage") if c in chosen],
        "contract_categories": [c for c in ("identity", "contact", "orders") if c in chosen],
        "kept_with_account": [c for c in ("identity", "contact", "communications") if c in chosen],
        "N_": N_,
    }
    return environment.get_template(TEMPLATE.name).render(context)
