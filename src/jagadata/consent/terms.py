"""The consent terms of each manifest version, written when a version is published.

For every purpose of a version: whether it rests on consent (Art. 20(2)(a)), the SHA-256 of
its consent text in each language (what the person was shown, Art. 21-22), how long consent
lasts, and from which version on consents still count. A material change to a consent-based
purpose (`requires_fresh_consent`) moves that version forward: consents given under older
versions no longer count once the new version is in force (Art. 21(2)).

Cookie categories the banner asks about (every one but `essential`) are recorded under the
purpose their cookies name (`purpose_ref`) when that purpose rests on consent and is collected
by the banner, else under a reserved purpose `cookies_<category>` (channel `cookie_banner`),
whose consent text is what the banner shows: the cookies' purposes in that language.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from jagadata.consent.models import ConsentTerms
from jagadata.db.tenancy import acting_for
from jagadata.i18n import gettext
from jagadata.law.facts import LegalBasis
from jagadata.manifest.errors import ManifestInvalid
from jagadata.manifest.loader import load_manifest_text
from jagadata.manifest.schema import ConsentTerms as ConsentTermsOfManifest
from jagadata.manifest.schema import CookieCategory, Manifest, Purpose, WithdrawalChannel
from jagadata.manifest.types import Text
from jagadata.orgs.models import ManifestVersion
from jagadata.policy import labels
from jagadata.policy.changes import Area, PolicyDiff
from jagadata.policy.diff import diff_manifests, requires_fresh_consent

log = logging.getLogger(__name__)


def notice_hash(text: str) -> str:
    """SHA-256 (hex) of a consent text exactly as shown, in UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def consent_text(purpose: Purpose, lang: str) -> str | None:
    """The consent request of a consent-based purpose in `lang` (Indonesian if not translated)."""
    if purpose.legal_basis is not LegalBasis.CONSENT or purpose.consent is None:
        return None
    return purpose.consent.text.get(lang)


COOKIE_PURPOSE_PREFIX = "cookies_"
"""Reserved purposes of cookie categories no consent-based purpose of the manifest covers."""


def cookie_purposes(manifest: Manifest) -> dict[CookieCategory, str]:
    """The ledger purpose of each cookie category the banner asks about, in category order."""
    found: dict[CookieCategory, str] = {}
    for category in CookieCategory:
        cookies = [c for c in manifest.cookies if c.category is category]
        if category is CookieCategory.ESSENTIAL or not cookies:
            continue
        refs = {c.purpose_ref for c in cookies}
        ref = next(iter(refs)) if len(refs) == 1 else None
        purpose = manifest.purpose(ref) if ref else None
        if (
            purpose is not None
            and purpose.legal_basis is LegalBasis.CONSENT
            and purpose.consent is not None
            and (
                not purpose.consent.collected_via
                or "cookie_banner" in purpose.consent.collected_via
            )
        ):
            found[category] = purpose.id
        else:
            found[category] = COOKIE_PURPOSE_PREFIX + category.value
    return found


def cookie_notice(manifest: Manifest, category: CookieCategory, lang: str) -> str:
    """What the banner shows for a category, whose SHA-256 the ledger records: the consent text
    of the purpose it maps to, or the purposes of its cookies (each once) in `lang`."""
    purpose = manifest.purpose(cookie_purposes(manifest).get(category, ""))
    text = consent_text(purpose, lang) if purpose is not None else None
    if text:
        return text
    shown: list[str] = []
    for cookie in manifest.cookies:
        if cookie.category is category and cookie.purpose.get(lang) not in shown:
            shown.append(cookie.purpose.get(lang))
    return " ".join(shown)


def cookie_purpose(manifest: Manifest, purpose_id: str) -> Purpose | None:
    """A reserved cookie purpose (`cookies_analytics`) as a consent-based Purpose of the
    manifest, for what shows an event of it (a receipt, a record); None for any other id."""
    category = next((c for c, p in cookie_purposes(manifest).items() if p == purpose_id), None)
    if category is None or not purpose_id.startswith(COOKIE_PURPOSE_PREFIX):
        return None
    label = labels.COOKIE_CATEGORIES[category]
    return Purpose(
        id=purpose_id,
        name=Text(**{lang: gettext(lang, label, "policy") for lang in manifest.languages}),
        legal_basis=LegalBasis.CONSENT,
        consent=ConsentTermsOfManifest(
            text=Text(
                **{lang: cookie_notice(manifest, category, lang) for lang in manifest.languages}
            ),
            withdrawal=[WithdrawalChannel.COOKIE_SETTINGS],
            collected_via=["cookie_banner"],
        ),
    )


def _cookie_terms(
    version: ManifestVersion,
    manifest: Manifest,
    previous: tuple[Manifest, dict[str, ConsentTerms]] | None,
    diff: PolicyDiff | None,
) -> list[ConsentTerms]:
    """The reserved purposes' terms: consents count from the first version, or from this one
    when the category's text changed or a material change touched its cookies."""
    rows = []
    declared = {p.id for p in manifest.purposes}
    for category, purpose_id in cookie_purposes(manifest).items():
        if purpose_id in declared:
            continue
        hashes = {
            lang: notice_hash(cookie_notice(manifest, category, lang))
            for lang in manifest.languages
        }
        before = previous[1].get(purpose_id) if previous else None
        touched = diff is not None and any(
            change.material
            and change.area is Area.COOKIE
            and change.key.split(":", 1)[0] == category.value
            for change in diff.changes
        )
        same = before is not None and before.consent and dict(before.notice_hashes) == hashes
        rows.append(
            ConsentTerms(
                organisation_id=version.organisation_id,
                version=version.number,
                purpose=purpose_id,
                effective=version.effective,
                consent=True,
                renewal_from=before.renewal_from
                if same and before and not touched
                else version.number,
                renew_after=None,
                notice_hashes=hashes,
                collected_via=["cookie_banner"],
                children_only=False,
            )
        )
    return rows


@dataclass(frozen=True)
class PurposeTerms:
    version: int
    purpose: str
    effective: date
    consent: bool
    renewal_from: int
    renew_after: str | None
    notice_hashes: dict[str, str]
    collected_via: tuple[str, ...]
    children_only: bool

    @classmethod
    def of(cls, row: ConsentTerms) -> PurposeTerms:
        return cls(
            row.version,
            row.purpose,
            row.effective,
            row.consent,
            row.renewal_from,
            row.renew_after,
            dict(row.notice_hashes),
            tuple(row.collected_via),
            row.children_only,
        )


def publish_terms(*, session: Session, version: ManifestVersion, manifest: Manifest) -> None:
    """The publish hook: write the terms of a version just added, in the caller's transaction
    (and of any earlier version that lacks them)."""
    ensure_terms(
        session=session, organisation_id=version.organisation_id, latest=(version, manifest)
    )


def ensure_terms(
    *,
    session: Session,
    organisation_id: int,
    latest: tuple[ManifestVersion, Manifest] | None = None,
    cookie_backfill: bool = False,
) -> int:
    """Write the terms of every version of the organisation that has none; count them. With
    `cookie_backfill`, also the reserved cookie purposes of versions published before them."""
    with acting_for(session, organisation_id):
        known = set(
            session.scalars(
                select(ConsentTerms.version)
                .where(ConsentTerms.organisation_id == organisation_id)
                .distinct()
            )
        )
        versions = list(
            session.scalars(
                select(ManifestVersion)
                .where(ManifestVersion.organisation_id == organisation_id)
                .order_by(ManifestVersion.number)
            )
        )
        previous: tuple[Manifest, dict[str, ConsentTerms]] | None = None
        pending: list[ConsentTerms] = []
        for version in versions:
            if latest is not None and latest[0].id == version.id:
                manifest: Manifest | None = latest[1]
            else:
                manifest = _manifest_of(version)
            if version.number in known:
                rows = list(
                    session.scalars(
                        select(ConsentTerms).where(
                            ConsentTerms.organisation_id == organisation_id,
                            ConsentTerms.version == version.number,
                        )
                    )
                )
                if cookie_backfill and manifest is not None:
                    have = {row.purpose for row in rows}
                    diff = diff_manifests(previous[0], manifest) if previous else None
                    added = _cookie_terms(version, manifest, previous, diff)
                    added = [row for row in added if row.purpose not in have]
                    pending.extend(added)
                    rows += added
            elif manifest is None:
                previous = None
                continue
            else:
                rows = _terms(version, manifest, previous)
                pending.extend(rows)
            previous = (manifest, {row.purpose: row for row in rows}) if manifest else None
        written = len({row.version for row in pending})
        if pending:
            insert_or_ignore(session, ConsentTerms, [_columns(row) for row in pending])
            log.info(
                "consent terms written for %d version(s) of organisation %d",
                written,
                organisation_id,
            )
        return written


def _terms(
    version: ManifestVersion,
    manifest: Manifest,
    previous: tuple[Manifest, dict[str, ConsentTerms]] | None,
) -> list[ConsentTerms]:
    diff = diff_manifests(previous[0], manifest) if previous else None
    children = {group.id for group in manifest.data_subjects if group.children}
    rows = []
    for purpose in manifest.purposes:
        consent = purpose.legal_basis is LegalBasis.CONSENT and purpose.consent is not None
        before = previous[1].get(purpose.id) if previous else None
        renewal_from = version.number
        if (
            consent
            and diff is not None
            and before is not None
            and before.consent
            and not requires_fresh_consent(diff, purpose.id)
        ):
            renewal_from = before.renewal_from
        terms = purpose.consent
        rows.append(
            ConsentTerms(
                organisation_id=version.organisation_id,
                version=version.number,
                purpose=purpose.id,
                effective=version.effective,
                consent=consent,
                renewal_from=renewal_from,
                renew_after=str(terms.renew_after)
                if consent and terms and terms.renew_after
                else None,
                notice_hashes={
                    lang: notice_hash(text)
                    for lang in manifest.languages
                    if (text := consent_text(purpose, lang))
                },
                collected_via=list(terms.collected_via) if consent and terms else [],
                children_only=bool(purpose.subjects) and set(purpose.subjects) <= children,
            )
        )
    return rows + _cookie_terms(version, manifest, previous, diff)


def _columns(row: ConsentTerms) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in ConsentTerms.__table__.columns}


def insert_or_ignore(session: Session, entity: type[Any], rows: list[dict[str, Any]]) -> None:
    """INSERT the rows, skipping any whose key another transaction wrote first."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(entity).on_conflict_do_nothing(), rows)


def _manifest_of(version: ManifestVersion) -> Manifest | None:
    return _parsed(version.content_hash, version.yaml_text)


@lru_cache(maxsize=64)
def _parsed(_content_hash: str, text: str) -> Manifest | None:
    try:
        return load_manifest_text(text, file="<stored manifest>").manifest
    except ManifestInvalid:
        return None


def version_manifest(version: ManifestVersion) -> Manifest | None:
    """The manifest a version was published from (parsed once per process)."""
    return _manifest_of(version)


def version_in_force(*, session: Session, organisation_id: int, today: date) -> int | None:
    """Number of the version in force on `today`; before the first takes effect, the first."""
    with acting_for(session, organisation_id):
        number = session.scalar(
            select(func.max(ManifestVersion.number)).where(
                ManifestVersion.organisation_id == organisation_id,
                ManifestVersion.effective <= today,
            )
        )
        if number is None:
            number = session.scalar(
                select(func.min(ManifestVersion.number)).where(
                    ManifestVersion.organisation_id == organisation_id
                )
            )
    return int(number) if number is not None else None


def terms_of(
    *, session: Session, organisation_id: int, versions: set[int]
) -> dict[tuple[int, str], PurposeTerms]:
    """The terms of these versions by (version, purpose), written first if they are missing."""
    for attempt in range(2):
        with acting_for(session, organisation_id):
            rows = session.scalars(
                select(ConsentTerms).where(
                    ConsentTerms.organisation_id == organisation_id,
                    ConsentTerms.version.in_(sorted(versions)),
                )
            ).all()
        found = {(row.version, row.purpose): PurposeTerms.of(row) for row in rows}
        if {version for version, _ in found} >= versions or attempt:
            return found
        if not ensure_terms(session=session, organisation_id=organisation_id):
            return found
    return {}
