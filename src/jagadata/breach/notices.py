"""The written notices of a breach (UU PDP Art. 46): to each person affected, to the authority
(lembaga) and, where Art. 46(3) applies, to the public.

Each carries the three elements of Art. 46(2): (a) the personal data disclosed, (b) when and
how it was disclosed, (c) what the organisation does to handle it and recover. Indonesian is
authoritative: a person whose language is known gets the Indonesian notice followed by the
same notice in their language. The authority and public notices are Indonesian documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, select_autoescape

from jagadata.breach.clock import LAW_HOURS
from jagadata.breach.models import BreachIncident
from jagadata.i18n import N_, gettext
from jagadata.manifest.schema import Manifest
from jagadata.rights.clock import zone_of
from jagadata.rights.templating import local_time

AUTHORITATIVE: Final = "id"
TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
LAW: Final = N_("Law No. 27 of 2022 on Personal Data Protection")


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "breach")


@dataclass(frozen=True)
class Notice:
    """One written notice: what a reader sees as the subject line and the text."""

    subject: str
    text: str


def category_names(manifest: Manifest, categories: Sequence[str], lang: str) -> list[str]:
    """The categories' names as the manifest gives them in `lang` (Indonesian otherwise)."""
    names = []
    for category_id in categories:
        category = manifest.category(category_id)
        names.append(category.name.get(lang) if category is not None else category_id)
    return names


def zone(manifest: Manifest) -> str:
    """The organisation's time zone (IANA key) that notices give their moments in."""
    return zone_of(manifest.organisation.timezone).key


def _when(incident: BreachIncident, manifest: Manifest, lang: str) -> str:
    tz = zone(manifest)
    discovered = local_time(incident.discovered_at, lang, tz)
    if incident.occurred_at is None:
        happened = _t(lang, "When it happened is still being established.")
    else:
        happened = _t(lang, "It happened on {moment}.").format(
            moment=local_time(incident.occurred_at, lang, tz)
        )
    found = _t(lang, "We discovered it on {moment}.").format(moment=discovered)
    return f"{happened} {found}"


def _contact(manifest: Manifest) -> str:
    dpo = manifest.organisation.dpo
    return str(dpo.email) if dpo is not None else str(manifest.organisation.email)


def _one_language(
    incident: BreachIncident,
    manifest: Manifest,
    categories: Sequence[str],
    lang: str,
    *,
    child: bool,
) -> Notice:
    organisation = manifest.organisation.display_name
    opening = (
        _t(
            lang,
            "{organisation} informs you in writing, as Article 46(1) of {law} requires, of a "
            "failure to protect personal data that concerns the data of a child in your care.",
        )
        if child
        else _t(
            lang,
            "{organisation} informs you in writing, as Article 46(1) of {law} requires, of a "
            "failure to protect personal data that concerns your data.",
        )
    ).format(organisation=organisation, law=_t(lang, LAW))
    names = ", ".join(category_names(manifest, categories, lang))
    lines = [
        _t(lang, "Dear Sir or Madam,"),
        "",
        opening,
        "",
        _t(lang, "1. The personal data disclosed: {categories}.").format(categories=names),
        _t(lang, "2. When and how it was disclosed: {when}").format(
            when=_when(incident, manifest, lang)
        ),
        f"   {incident.what_happened}",
        _t(lang, "3. What we are doing to handle it and recover from it:"),
        f"   {incident.measures}",
        "",
        _t(lang, "For any question, write to {contact}.").format(contact=_contact(manifest)),
        _t(lang, "Reference: {reference}").format(reference=incident.reference),
        "",
        organisation,
    ]
    subject = _t(lang, "Notice of a personal data protection failure — {organisation}").format(
        organisation=organisation
    )
    return Notice(subject, "\n".join(lines))


def subject_notice(
    incident: BreachIncident,
    manifest: Manifest,
    categories: Sequence[str],
    lang: str | None,
    *,
    child: bool = False,
) -> Notice:
    """The notice to one person: Indonesian, then their own language when it is another."""
    authoritative = _one_language(incident, manifest, categories, AUTHORITATIVE, child=child)
    if not lang or lang == AUTHORITATIVE:
        return authoritative
    translated = _one_language(incident, manifest, categories, lang, child=child)
    prevails = _t(lang, "The Indonesian text above prevails.")
    return Notice(
        f"{authoritative.subject} / {translated.subject}",
        f"{authoritative.text}\n\n---\n\n{translated.text}\n\n{prevails}",
    )


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _document_context(incident: BreachIncident, manifest: Manifest) -> dict[str, Any]:
    tz = zone(manifest)
    affected = incident.affected or {}
    by_category = affected.get("by_category", {})
    categories = [
        (name, by_category.get(category_id))
        for category_id, name in zip(
            incident.categories,
            category_names(manifest, incident.categories, AUTHORITATIVE),
            strict=True,
        )
    ]
    systems = [
        next((s.name for s in manifest.systems if s.id == system_id), system_id)
        for system_id in incident.systems
    ]
    return {
        "incident": incident,
        "organisation": manifest.organisation,
        "categories": categories,
        "systems": systems,
        "affected": affected,
        "law_hours": LAW_HOURS,
        "discovered": local_time(incident.discovered_at, AUTHORITATIVE, tz),
        "occurred": local_time(incident.occurred_at, AUTHORITATIVE, tz),
        "due": local_time(incident.due_at, AUTHORITATIVE, tz),
        "subjects_notified": local_time(incident.subjects_notified_at, AUTHORITATIVE, tz),
        "contact": _contact(manifest),
    }


def authority_document(incident: BreachIncident, manifest: Manifest) -> str:
    """The notice to the authority (Art. 46(1)(b)): an Indonesian HTML document to send."""
    return (
        _environment()
        .get_template("authority.html")
        .render(**_document_context(incident, manifest))
    )


def public_document(incident: BreachIncident, manifest: Manifest) -> str:
    """The notice to the public (Art. 46(3)): an Indonesian HTML page to publish."""
    return (
        _environment().get_template("public.html").render(**_document_context(incident, manifest))
    )


def timeline_document(evidence: dict[str, Any]) -> str:
    """The exported timeline as an HTML page (the same facts as the JSON export)."""
    return _environment().get_template("timeline.html").render(evidence=evidence)
