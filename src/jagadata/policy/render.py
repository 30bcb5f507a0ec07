"""Render the published privacy policy from a manifest, in Indonesian, English or French.

One set of Jinja templates (`templates/`, gettext domain `policy`) writes semantic HTML; Markdown
is serialised from that HTML, so both formats always say the same thing. Same manifest, same
bytes: nothing depends on the clock or on dictionary order.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any, Final, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined

from jagadata.i18n import LANGUAGES, N_, gettext, ngettext
from jagadata.law.facts import CHILD_AGE, STATUTORY_HOURS, Right
from jagadata.manifest.commitments import fulfilment_deadline
from jagadata.manifest.schema import Manifest
from jagadata.manifest.types import Duration
from jagadata.policy import context as c
from jagadata.policy import labels
from jagadata.policy import words as w
from jagadata.policy.labels import DOMAIN, NOTICE_CHANNELS, _t
from jagadata.policy.markdown import html_to_markdown

PolicyFormat = Literal["html", "md"]
_BLANK_LINES: Final = re.compile(r"\n[ \t]*(?=\n)")

SECTIONS: Final = (
    ("controller", N_("Who is responsible for your data")),
    ("data-we-collect", N_("Personal data we collect")),
    ("data-we-do-not-collect", N_("What we do not collect")),
    ("purposes", N_("Why we process your data")),
    ("legal-bases", N_("Legal bases for processing")),
    ("sharing", N_("Who receives your data")),
    ("transfers", N_("Transfers outside Indonesia")),
    ("retention", N_("How long we keep your data")),
    ("security", N_("How we protect your data")),
    ("breach", N_("If the protection of your data fails")),
    ("rights", N_("Your rights")),
    ("cookies", N_("Cookies and similar technologies")),
    ("children", N_("Children's data")),
    ("changes", N_("Changes to this policy")),
    ("governing-law", N_("Governing law and disputes")),
    ("contact", N_("Contact us")),
    ("language", N_("Language of this policy")),
)
SECTION_IDS: Final = tuple(section_id for section_id, _ in SECTIONS)
"""The `id` of every `<section>`, in order: stable anchors for links, tests and the web app."""


def render_policy(
    manifest: Manifest, *, lang: str, fmt: PolicyFormat = "html", standalone: bool = True
) -> str:
    """The complete policy in `lang`; `standalone` html is a whole page, else a fragment."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown policy language {lang!r}; use one of: {', '.join(LANGUAGES)}")
    if fmt not in ("html", "md"):
        raise ValueError(f"unknown policy format {fmt!r}; use html or md")
    values = policy_values(manifest, lang)
    html = _environment(lang).get_template("policy.html.j2").render(
        **values, standalone=standalone and fmt == "html"
    )
    html = _BLANK_LINES.sub("", html).lstrip("\n")
    if fmt == "md":
        return html_to_markdown(html)
    return html


def policy_stylesheet() -> str:
    """The stylesheet the standalone page embeds; the web app serves it as a file for fragments."""
    return resources.files("jagadata.policy").joinpath("templates/policy.css").read_text("utf-8")


@cache
def _environment(lang: str) -> Environment:
    """A Jinja environment whose `{% trans %}` and `_()` read the `policy` catalogue of `lang`."""
    env = Environment(
        loader=PackageLoader("jagadata.policy", "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["capitalise"] = w.capitalise
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: gettext(lang, message, DOMAIN),
        ngettext=lambda singular, plural, n: ngettext(lang, singular, plural, n, DOMAIN),
        newstyle=True,
    )
    return env


def policy_values(manifest: Manifest, lang: str) -> dict[str, Any]:
    """Everything the templates show, resolved for `lang`."""
    words = w.Words(lang)
    org = manifest.organisation
    retention_rows, uncovered = c.retention(manifest, lang)
    transfers = c.transfers(manifest, lang, words)
    subjects_notice, authority_notice = c.breach_deadlines(manifest, lang)
    withdrawal = fulfilment_deadline(manifest, Right.WITHDRAW_CONSENT)
    children = manifest.children
    changes = manifest.changes
    categories = c.categories_by_source(manifest, lang, words)
    return {
        "lang": lang,
        "w": words,
        "sections": [
            {"id": section_id, "title": _t(lang, title)} for section_id, title in SECTIONS
        ],
        "titles": {section_id: _t(lang, title) for section_id, title in SECTIONS},
        "org": org,
        "org_name": org.display_name,
        "legal_form": _t(lang, labels.LEGAL_FORMS[org.legal_form]),
        "whatsapp_href": w.whatsapp_link(org.whatsapp) if org.whatsapp else "",
        "effective": w.date_in_words(manifest.policy.effective, lang),
        "effective_iso": manifest.policy.effective.isoformat(),
        "services": w.text(manifest.policy.services, lang),
        "categories": categories,
        "specific": [v for views in categories.values() for v in views if v.specific_article],
        "any_optional": any(view.optional for views in categories.values() for view in views),
        "not_collected": c.not_collected(manifest, lang),
        "purposes": [c.purpose_view(manifest, p, lang, words) for p in manifest.purposes],
        "withdrawal_deadline": w.duration_in_words(
            withdrawal.duration, lang, withdrawal.calendar
        )
        if withdrawal
        else w.duration_in_words(Duration(STATUTORY_HOURS, "h"), lang),
        "recipient_groups": c.recipient_groups(manifest, lang, words),
        "transfers": transfers,
        "retention": retention_rows,
        "uncovered": words.join(uncovered),
        "measures": [
            w.text(m.description, lang) or _t(lang, labels.SECURITY_KINDS[m.kind])
            for m in manifest.security.measures
        ],
        "breach": manifest.breach,
        "breach_subjects": subjects_notice,
        "breach_authority": authority_notice,
        "breach_channels": words.join(
            [_t(lang, NOTICE_CHANNELS[ch]) for ch in manifest.breach.channels]
        ),
        "rights": c.rights(manifest, lang),
        "rights_channels": c.rights_channels(manifest, lang),
        "identifiers": words.join_or(c.identifier_names(manifest, lang)),
        "verifiable": any(i.verifiable for i in manifest.rights.identifiers),
        "acknowledge": c.acknowledgement(manifest, lang),
        "objection_to_marketing": manifest.rights.objection_to_marketing,
        "privacy_centre": w.privacy_centre_url(manifest),
        "cookies": c.cookies(manifest, lang),
        "essential_cookies": any(ck.category.value == "essential" for ck in manifest.cookies),
        "children": children,
        "child_age": w.duration_in_words(Duration(CHILD_AGE, "y"), lang),
        "minimum_age": w.duration_in_words(Duration(children.minimum_age, "y"), lang),
        "children_groups": c.children_groups(manifest, lang, words),
        "parental_consent": c.parental_consent_required(manifest),
        "verification": w.text(children.verification, lang),
        "on_discovery": w.text(children.on_discovery, lang),
        "change_channels": words.join(
            [_t(lang, NOTICE_CHANNELS[ch]) for ch in changes.channels]
        ),
        "advance_notice": w.duration_in_words(changes.advance_notice, lang)
        if changes.advance_notice
        else "",
        "renew_consent": changes.consent_renewed_on_material_change
        and any(p.legal_basis is not None and p.legal_basis.value == "consent"
                for p in manifest.purposes),
        "laws": [w.text(law, lang) for law in manifest.governing_law.laws],
        "amicable": manifest.governing_law.amicable_first,
        "court": w.text(manifest.governing_law.court, lang),
        "authority": w.text(manifest.governing_law.complaint_authority.name, lang)
        if manifest.governing_law.complaint_authority
        else "",
        "authority_url": manifest.governing_law.complaint_authority.url
        if manifest.governing_law.complaint_authority
        else "",
        "dpo": org.dpo,
        "languages": words.join(c.language_names(manifest, lang)),
        "several_languages": len(manifest.languages) > 1,
    }
