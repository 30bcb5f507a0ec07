"""Organisations and their versions: publishing a manifest renders and stores its policy.

Each function that writes is one transaction. Versions are immutable: a changed manifest is
published as a new version, never by editing an old one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jagadata.audit.service import SYSTEM, Actor, record
from jagadata.consent.terms import publish_terms
from jagadata.db import atomic
from jagadata.db.tenancy import across_organisations, acting_for
from jagadata.manifest.errors import ManifestInvalid
from jagadata.manifest.loader import LoadedManifest, load_manifest_text
from jagadata.manifest.schema import Manifest
from jagadata.orgs.models import (
    POLICY_FORMATS,
    POLICY_LANGUAGES,
    ManifestVersion,
    Organisation,
    PolicyFormat,
    PolicyVersion,
)
from jagadata.policy.render import render_policy

log = logging.getLogger(__name__)

WIB = timezone(timedelta(hours=7), "WIB")
"""Western Indonesia Time, which has no daylight saving: the day a policy takes effect."""


class OrganisationExists(Exception):
    """An organisation with this slug is already registered (publish changes with `update`)."""

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


class OrganisationNotFound(Exception):
    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


class ManifestAlreadyPublished(Exception):
    """This exact manifest text is an earlier version; the same text cannot become a new one."""

    def __init__(self, slug: str, number: int) -> None:
        super().__init__(f"{slug} v{number}")
        self.slug = slug
        self.number = number


class Outcome(StrEnum):
    ADDED = "added"
    PUBLISHED = "published"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Publication:
    organisation: Organisation
    version: ManifestVersion
    outcome: Outcome
    policies: tuple[PolicyVersion, ...]


def today_in_indonesia(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(WIB).date()


def add_organisation(
    *,
    session: Session,
    loaded: LoadedManifest,
    now: datetime | None = None,
    actor: Actor = SYSTEM,
) -> Publication:
    """Register the manifest's organisation and publish its manifest as version 1 (audited)."""
    slug = loaded.manifest.organisation.slug
    now = now or datetime.now(UTC)
    try:
        with atomic(session):
            if get_organisation(session=session, slug=slug) is not None:
                raise OrganisationExists(slug)
            organisation = Organisation(
                slug=slug, name=loaded.manifest.organisation.display_name, created_at=now
            )
            session.add(organisation)
            session.flush()
            version, policies = _publish(session, organisation, loaded, number=1, now=now)
            _audit(session, "org.added", organisation, version, policies, actor, now)
    except IntegrityError:
        raise OrganisationExists(slug) from None
    log.info("added organisation %s: version 1", slug)
    return Publication(organisation, version, Outcome.ADDED, policies)


def update_organisation(
    *,
    session: Session,
    loaded: LoadedManifest,
    now: datetime | None = None,
    actor: Actor = SYSTEM,
) -> Publication:
    """Publish the manifest as the next version, unless its text is the latest version's."""
    slug = loaded.manifest.organisation.slug
    now = now or datetime.now(UTC)
    with atomic(session):
        organisation = session.scalars(
            select(Organisation).where(Organisation.slug == slug).with_for_update()
        ).one_or_none()
        if organisation is None:
            raise OrganisationNotFound(slug)
        with acting_for(session, organisation.id):
            latest = latest_version(session=session, organisation=organisation)
            if latest is not None and latest.content_hash == loaded.content_hash:
                return Publication(organisation, latest, Outcome.UNCHANGED, tuple(latest.policies))
            earlier = session.scalars(
                select(ManifestVersion).where(
                    ManifestVersion.organisation_id == organisation.id,
                    ManifestVersion.content_hash == loaded.content_hash,
                )
            ).one_or_none()
            if earlier is not None:
                raise ManifestAlreadyPublished(slug, earlier.number)
            organisation.name = loaded.manifest.organisation.display_name
            number = (latest.number if latest else 0) + 1
            version, policies = _publish(session, organisation, loaded, number=number, now=now)
            _audit(session, "org.published", organisation, version, policies, actor, now)
    log.info("published version %d of %s", number, slug)
    return Publication(organisation, version, Outcome.PUBLISHED, policies)


def _audit(
    session: Session,
    action: str,
    organisation: Organisation,
    version: ManifestVersion,
    policies: tuple[PolicyVersion, ...],
    actor: Actor,
    now: datetime,
) -> None:
    record(
        session=session,
        organisation_id=organisation.id,
        actor=actor,
        action=action,
        target_type="manifest_version",
        target_id=version.id,
        details={
            "slug": organisation.slug,
            "version": version.number,
            "content_hash": version.content_hash,
            "effective": version.effective.isoformat(),
            "languages": sorted({p.lang for p in policies}, key="idenfr".find),
        },
        occurred_at=now,
    )


def _publish(
    session: Session,
    organisation: Organisation,
    loaded: LoadedManifest,
    *,
    number: int,
    now: datetime,
) -> tuple[ManifestVersion, tuple[PolicyVersion, ...]]:
    manifest = loaded.manifest
    version = ManifestVersion(
        organisation_id=organisation.id,
        number=number,
        content_hash=loaded.content_hash,
        yaml_text=loaded.text,
        effective=manifest.policy.effective,
        created_at=now,
    )
    session.add(version)
    session.flush()
    publish_terms(session=session, version=version, manifest=manifest)
    policies = []
    for lang in manifest.languages:
        for fmt in POLICY_FORMATS:
            document = render_policy(manifest, lang=lang, fmt=fmt, standalone=True)
            fragment = render_policy(manifest, lang=lang, fmt=fmt, standalone=False)
            policies.append(
                PolicyVersion(
                    organisation_id=organisation.id,
                    manifest_version_id=version.id,
                    lang=lang,
                    format=fmt,
                    content=fragment,
                    document=document,
                    content_hash=hashlib.sha256(document.encode("utf-8")).hexdigest(),
                    effective=manifest.policy.effective,
                    published_at=now,
                )
            )
    session.add_all(policies)
    session.flush()
    return version, tuple(policies)


def list_organisations(*, session: Session) -> Sequence[Organisation]:
    return session.scalars(select(Organisation).order_by(Organisation.slug)).all()


def get_organisation(*, session: Session, slug: str) -> Organisation | None:
    return session.scalars(select(Organisation).where(Organisation.slug == slug)).one_or_none()


def latest_version(*, session: Session, organisation: Organisation) -> ManifestVersion | None:
    with acting_for(session, organisation.id):
        return session.scalars(
            select(ManifestVersion)
            .where(ManifestVersion.organisation_id == organisation.id)
            .order_by(ManifestVersion.number.desc())
            .limit(1)
        ).first()


def get_version(
    *, session: Session, organisation: Organisation, number: int
) -> ManifestVersion | None:
    with acting_for(session, organisation.id):
        return session.scalars(
            select(ManifestVersion).where(
                ManifestVersion.organisation_id == organisation.id, ManifestVersion.number == number
            )
        ).one_or_none()


def current_version(
    *, session: Session, organisation: Organisation, today: date | None = None
) -> ManifestVersion | None:
    """The version in force today; before the first one takes effect, that first one."""
    today = today or today_in_indonesia()
    with acting_for(session, organisation.id):
        in_force = session.scalars(
            select(ManifestVersion)
            .where(
                ManifestVersion.organisation_id == organisation.id,
                ManifestVersion.effective <= today,
            )
            .order_by(ManifestVersion.number.desc())
            .limit(1)
        ).first()
        if in_force is not None:
            return in_force
        return session.scalars(
            select(ManifestVersion)
            .where(ManifestVersion.organisation_id == organisation.id)
            .order_by(ManifestVersion.number)
            .limit(1)
        ).first()


def upcoming_version(
    *, session: Session, organisation: Organisation, today: date | None = None
) -> ManifestVersion | None:
    """A newer version announced but not yet in force (people are told before it applies)."""
    today = today or today_in_indonesia()
    with acting_for(session, organisation.id):
        current = current_version(session=session, organisation=organisation, today=today)
        if current is None:
            return None
        return session.scalars(
            select(ManifestVersion)
            .where(
                ManifestVersion.organisation_id == organisation.id,
                ManifestVersion.number > current.number,
                ManifestVersion.effective > today,
            )
            .order_by(ManifestVersion.number.desc())
            .limit(1)
        ).first()


def current_policy(
    *,
    session: Session,
    organisation: Organisation,
    lang: str,
    fmt: PolicyFormat = "html",
    today: date | None = None,
) -> PolicyVersion | None:
    """The policy in force today in `lang` and `fmt`; None if it was not published in `lang`."""
    version = current_version(session=session, organisation=organisation, today=today)
    return version_policy(session=session, version=version, lang=lang, fmt=fmt) if version else None


def version_policy(
    *, session: Session, version: ManifestVersion, lang: str, fmt: PolicyFormat = "html"
) -> PolicyVersion | None:
    with acting_for(session, version.organisation_id):
        return session.scalars(
            select(PolicyVersion).where(
                PolicyVersion.organisation_id == version.organisation_id,
                PolicyVersion.manifest_version_id == version.id,
                PolicyVersion.lang == lang,
                PolicyVersion.format == fmt,
            )
        ).one_or_none()


def version_languages(*, session: Session, version: ManifestVersion) -> list[str]:
    """Languages the version's policy was published in, Indonesian first."""
    with acting_for(session, version.organisation_id):
        published = set(
            session.scalars(
                select(PolicyVersion.lang).where(
                    PolicyVersion.organisation_id == version.organisation_id,
                    PolicyVersion.manifest_version_id == version.id,
                )
            )
        )
        return [lang for lang in POLICY_LANGUAGES if lang in published]


def policy_history(*, session: Session, organisation: Organisation) -> Sequence[ManifestVersion]:
    """Every version of the organisation's manifest, newest first."""
    with acting_for(session, organisation.id):
        return session.scalars(
            select(ManifestVersion)
            .where(ManifestVersion.organisation_id == organisation.id)
            .order_by(ManifestVersion.number.desc())
        ).all()


def version_counts(*, session: Session) -> dict[int, int]:
    """How many versions each organisation has published, by organisation id (an operator's
    summary: a session bound to one organisation counts only its own)."""
    with across_organisations(session):
        rows = session.execute(
            select(ManifestVersion.organisation_id, func.count()).group_by(
                ManifestVersion.organisation_id
            )
        ).all()
    return {organisation_id: count for organisation_id, count in rows}


def version_manifest(version: ManifestVersion) -> Manifest | None:
    """The manifest a version was published from; None if it no longer loads (older format)."""
    return _parse_manifest(version.content_hash, version.yaml_text)


@lru_cache(maxsize=64)
def _parse_manifest(_content_hash: str, text: str) -> Manifest | None:
    try:
        return load_manifest_text(text, file="<stored manifest>").manifest
    except ManifestInvalid:
        return None
