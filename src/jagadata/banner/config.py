"""What the banner shows and records, taken from the manifest version in force.

The categories and their cookies come from the manifest's `cookies`; each category the banner
asks about maps to a ledger purpose (`consent.terms.cookie_purposes`), whose consent text is the
text shown for it (so the ledger's notice hash is the hash of exactly that text, Art. 22, 24).
The banner's `epoch` changes when a policy revision needs fresh consent (Art. 21(2)): a visitor
whose stored choice carries another epoch is asked again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from jagadata.consent.terms import (
    cookie_notice,
    cookie_purposes,
    ensure_terms,
    terms_of,
    version_in_force,
    version_manifest,
)
from jagadata.i18n import N_, gettext
from jagadata.manifest.describe import describe_duration
from jagadata.manifest.schema import CookieCategory, Manifest
from jagadata.orgs.models import Organisation
from jagadata.orgs.service import get_version, today_in_indonesia
from jagadata.policy import labels

RECORD_PATH: Final = "/api/v1/orgs/{org}/banner/choices"

UI: Final = {
    "title": N_("Privacy and cookies"),
    "intro": N_(
        "{organisation} uses essential cookies to run this site. With your consent it also "
        "uses the cookies below. Accept them all, reject them all, or choose; you can change "
        "your mind at any time."
    ),
    "accept": N_("Accept all"),
    "reject": N_("Reject all"),
    "choose": N_("Choose"),
    "save": N_("Save my choices"),
    "always": N_("always active"),
    "settings": N_("Privacy settings"),
    "close": N_("Close"),
    "policy": N_("Privacy policy"),
    "gpc": N_(
        "Your browser sends a Global Privacy Control signal: optional cookies stay off unless "
        "you turn them on here."
    ),
    "law": N_("Consent under Art. 20(2)(a) UU PDP; you may withdraw it at any time (Art. 9, 40)."),
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "banner")


@dataclass(frozen=True)
class Category:
    key: str
    purpose: str | None
    """The ledger purpose a choice is recorded under; None for essential cookies."""
    labels: dict[str, str]
    notices: dict[str, str]
    details: dict[str, str]
    names: list[str]


@dataclass(frozen=True)
class Banner:
    organisation: str
    name: str
    version: int
    epoch: str
    languages: list[str]
    categories: list[Category]
    consent_mode: bool
    policy_url: str
    texts: dict[str, dict[str, str]]

    def asked(self) -> list[Category]:
        """The categories a visitor chooses (all but essential)."""
        return [c for c in self.categories if c.purpose is not None]

    def purpose_of(self, key: str) -> str | None:
        return next((c.purpose for c in self.categories if c.key == key), None)

    def config(self, *, api: str, gpc: bool) -> dict[str, Any]:
        """The script's configuration, with short keys (the script is sent on every page)."""
        return {
            "o": self.organisation,
            "v": self.version,
            "e": self.epoch,
            "l": self.languages,
            "api": api,
            "p": self.policy_url,
            "g": self.consent_mode,
            "gpc": gpc,
            "t": self.texts,
            "c": [
                {
                    "k": c.key,
                    "r": c.purpose is None,
                    "n": c.labels,
                    "d": c.notices,
                    "i": c.details,
                    "x": c.names,
                }
                for c in self.categories
            ],
        }


def banner_of(
    *, session: Session, organisation: Organisation, base_url: str, now: datetime
) -> Banner | None:
    """The banner of the version in force on `now` (Jakarta's date); None without a manifest."""
    number = version_in_force(
        session=session, organisation_id=organisation.id, today=today_in_indonesia(now)
    )
    version = (
        get_version(session=session, organisation=organisation, number=number)
        if number is not None
        else None
    )
    manifest = version_manifest(version) if version is not None else None
    if version is None or manifest is None:
        return None
    terms = terms_of(session=session, organisation_id=organisation.id, versions={version.number})
    mapped = cookie_purposes(manifest)
    if any((version.number, purpose) not in terms for purpose in mapped.values()):
        # A version published before the banner existed: write its cookie purposes' terms.
        ensure_terms(session=session, organisation_id=organisation.id, cookie_backfill=True)
        terms = terms_of(
            session=session, organisation_id=organisation.id, versions={version.number}
        )
    epoch_source = "|".join(
        f"{purpose}:{terms[(version.number, purpose)].renewal_from}"
        if (version.number, purpose) in terms
        else f"{purpose}:{version.number}"
        for purpose in mapped.values()
    )
    return build_banner(
        manifest,
        version=version.number,
        epoch=hashlib.sha256(epoch_source.encode("utf-8")).hexdigest()[:12],
        base_url=base_url,
    )


def build_banner(manifest: Manifest, *, version: int, epoch: str, base_url: str) -> Banner:
    """The banner of one manifest version (no database: also used by the static build)."""
    languages: list[str] = list(manifest.languages)
    mapped = cookie_purposes(manifest)
    org = manifest.organisation
    slug = org.slug
    categories = []
    for category in CookieCategory:
        cookies = [c for c in manifest.cookies if c.category is category]
        if not cookies:
            continue
        categories.append(
            Category(
                key=category.value,
                purpose=mapped.get(category),
                labels={
                    lang: gettext(lang, labels.COOKIE_CATEGORIES[category], "policy")
                    for lang in languages
                },
                notices={lang: cookie_notice(manifest, category, lang) for lang in languages},
                details={
                    lang: "; ".join(
                        " · ".join(
                            part
                            for part in (
                                ", ".join(c.names),
                                c.provider,
                                describe_duration(c.duration, lang),
                            )
                            if part
                        )
                        for c in cookies
                    )
                    for lang in languages
                },
                names=sorted({name for c in cookies for name in c.names}),
            )
        )
    name = org.display_name
    texts = {
        lang: {
            key: _t(lang, message).format(organisation=name)
            if key == "intro"
            else _t(lang, message)
            for key, message in UI.items()
        }
        for lang in languages
    }
    return Banner(
        organisation=slug,
        name=name,
        version=version,
        epoch=epoch,
        languages=languages,
        categories=categories,
        consent_mode=manifest.cookie_banner.google_consent_mode,
        policy_url=manifest.policy.url or f"{base_url.rstrip('/')}/o/{slug}/",
        texts=texts,
    )


def record_url(base_url: str, slug: str) -> str:
    return base_url.rstrip("/") + RECORD_PATH.format(org=slug)
