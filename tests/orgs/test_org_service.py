"""Publishing manifests: organisations, immutable numbered versions, and the policy rendered for
every language and format — on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jagadata.db.tenancy import across_organisations
from jagadata.manifest.loader import LoadedManifest
from jagadata.orgs import service
from jagadata.orgs.models import ImmutableVersion, ManifestVersion, PolicyVersion
from jagadata.orgs.service import Outcome
from jagadata.policy.render import render_policy

MakeManifest = Callable[..., LoadedManifest]


def _count(session: Session, model: type[ManifestVersion] | type[PolicyVersion]) -> int:
    with across_organisations(session):
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_adding_publishes_version_one_in_every_language_and_format(
    session: Session, make_manifest: MakeManifest
) -> None:
    loaded = make_manifest(slug="toko-satu")
    published = service.add_organisation(session=session, loaded=loaded)

    assert published.outcome is Outcome.ADDED
    assert published.organisation.slug == "toko-satu"
    assert published.organisation.name == loaded.manifest.organisation.display_name
    assert published.version.number == 1
    assert published.version.content_hash == loaded.content_hash
    assert published.version.yaml_text == loaded.text
    assert published.version.effective == loaded.manifest.policy.effective
    stored = {(p.lang, p.format) for p in published.policies}
    assert stored == {(lang, fmt) for lang in loaded.manifest.languages for fmt in ("html", "md")}
    assert _count(session, PolicyVersion) == len(stored)


def test_each_policy_keeps_the_fragment_for_the_page_and_the_document_for_download(
    session: Session, make_manifest: MakeManifest
) -> None:
    loaded = make_manifest(slug="toko-dua")
    published = service.add_organisation(session=session, loaded=loaded)
    english = next(p for p in published.policies if (p.lang, p.format) == ("en", "html"))

    assert english.content == render_policy(loaded.manifest, lang="en", standalone=False)
    assert english.document == render_policy(loaded.manifest, lang="en", standalone=True)
    assert english.content_hash == hashlib.sha256(english.document.encode()).hexdigest()
    assert english.effective == loaded.manifest.policy.effective


def test_times_are_timezone_aware_utc(session: Session, make_manifest: MakeManifest) -> None:
    service.add_organisation(session=session, loaded=make_manifest(slug="toko-tiga"))
    session.expire_all()
    organisation = service.get_organisation(session=session, slug="toko-tiga")
    assert organisation is not None
    version = service.latest_version(session=session, organisation=organisation)
    assert version is not None
    for moment in (organisation.created_at, version.created_at):
        assert moment.tzinfo is not None and moment.utcoffset() is not None
        assert moment.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert abs((datetime.now(UTC) - moment).total_seconds()) < 3600


def test_adding_an_existing_slug_fails_and_changes_nothing(
    session: Session, make_manifest: MakeManifest
) -> None:
    service.add_organisation(session=session, loaded=make_manifest(slug="toko-ada"))
    versions = _count(session, ManifestVersion)
    with pytest.raises(service.OrganisationExists) as raised:
        service.add_organisation(
            session=session, loaded=make_manifest(slug="toko-ada", effective=date(2027, 1, 1))
        )
    assert raised.value.slug == "toko-ada"
    assert _count(session, ManifestVersion) == versions


def test_an_unchanged_manifest_publishes_nothing(
    session: Session, make_manifest: MakeManifest
) -> None:
    loaded = make_manifest(slug="toko-tetap")
    first = service.add_organisation(session=session, loaded=loaded)
    again = service.update_organisation(session=session, loaded=loaded)
    assert again.outcome is Outcome.UNCHANGED
    assert again.version.id == first.version.id
    assert _count(session, ManifestVersion) == 1


def test_a_changed_manifest_becomes_the_next_version(
    session: Session, make_manifest: MakeManifest
) -> None:
    service.add_organisation(
        session=session, loaded=make_manifest(slug="toko-baru", effective=date(2026, 1, 1))
    )
    changed = make_manifest(slug="toko-baru", name="Toko Baru", effective=date(2026, 6, 1))
    published = service.update_organisation(session=session, loaded=changed)

    assert published.outcome is Outcome.PUBLISHED
    assert published.version.number == 2
    assert published.version.effective == date(2026, 6, 1)
    assert published.organisation.name == "Toko Baru"
    history = service.policy_history(session=session, organisation=published.organisation)
    assert [v.number for v in history] == [2, 1]


def test_returning_to_an_earlier_text_is_refused_with_its_number(
    session: Session, make_manifest: MakeManifest
) -> None:
    original = make_manifest(slug="toko-balik", name="Toko Balik", effective=date(2026, 1, 1))
    service.add_organisation(session=session, loaded=original)
    service.update_organisation(
        session=session,
        loaded=make_manifest(slug="toko-balik", name="Toko Balik", effective=date(2026, 2, 1)),
    )
    with pytest.raises(service.ManifestAlreadyPublished) as raised:
        service.update_organisation(session=session, loaded=original)
    assert raised.value.number == 1


def test_updating_an_unknown_organisation_fails(
    session: Session, make_manifest: MakeManifest
) -> None:
    with pytest.raises(service.OrganisationNotFound):
        service.update_organisation(session=session, loaded=make_manifest(slug="tidak-ada"))


def test_published_versions_cannot_be_changed(
    session: Session, make_manifest: MakeManifest
) -> None:
    published = service.add_organisation(session=session, loaded=make_manifest(slug="toko-kunci"))
    published.version.yaml_text = "jagadata: 1\n"
    with pytest.raises(ImmutableVersion):
        session.flush()
    session.rollback()
    policy = published.policies[0]
    policy.content = "<p>changed</p>"
    with pytest.raises(ImmutableVersion):
        session.flush()


def test_the_database_refuses_a_second_version_with_the_same_number(
    session: Session, make_manifest: MakeManifest
) -> None:
    published = service.add_organisation(session=session, loaded=make_manifest(slug="toko-dobel"))
    session.add(
        ManifestVersion(
            organisation_id=published.organisation.id,
            number=1,
            content_hash="0" * 64,
            yaml_text="",
            effective=date(2026, 1, 1),
            created_at=datetime.now(UTC),
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_a_policy_cannot_belong_to_another_organisations_version(
    session: Session, make_manifest: MakeManifest
) -> None:
    first = service.add_organisation(session=session, loaded=make_manifest(slug="toko-a"))
    second = service.add_organisation(session=session, loaded=make_manifest(slug="toko-b"))
    session.add(
        PolicyVersion(
            organisation_id=second.organisation.id,
            manifest_version_id=first.version.id,
            lang="id",
            format="html",
            content="",
            document="",
            content_hash="0" * 64,
            effective=date(2026, 1, 1),
            published_at=datetime.now(UTC),
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_only_the_manifests_languages_are_published(
    session: Session, make_manifest: MakeManifest
) -> None:
    published = service.add_organisation(
        session=session, loaded=make_manifest(slug="toko-dwibahasa", languages=["id", "en"])
    )
    assert service.version_languages(session=session, version=published.version) == ["id", "en"]
    assert service.version_policy(session=session, version=published.version, lang="fr") is None


def test_the_version_in_force_follows_the_effective_dates(
    session: Session, make_manifest: MakeManifest
) -> None:
    first = service.add_organisation(
        session=session,
        loaded=make_manifest(slug="toko-waktu", name="W", effective=date(2026, 3, 1)),
    )
    service.update_organisation(
        session=session,
        loaded=make_manifest(slug="toko-waktu", name="W", effective=date(2026, 9, 1)),
    )
    organisation = first.organisation

    def in_force(today: date) -> tuple[int | None, int | None]:
        current = service.current_version(session=session, organisation=organisation, today=today)
        upcoming = service.upcoming_version(session=session, organisation=organisation, today=today)
        return (current.number if current else None, upcoming.number if upcoming else None)

    assert in_force(date(2026, 1, 1)) == (1, 2)  # nothing in force yet: the first one is shown
    assert in_force(date(2026, 5, 1)) == (1, 2)  # version 2 announced, not yet applicable
    assert in_force(date(2026, 9, 1)) == (2, None)
    policy = service.current_policy(
        session=session, organisation=organisation, lang="fr", fmt="md", today=date(2026, 9, 2)
    )
    assert policy is not None and policy.format == "md" and policy.lang == "fr"
    assert policy.manifest_version.number == 2


def test_organisations_never_see_each_others_versions(
    session: Session, make_manifest: MakeManifest
) -> None:
    one = service.add_organisation(session=session, loaded=make_manifest(slug="toko-x"))
    two = service.add_organisation(session=session, loaded=make_manifest(slug="toko-y"))
    service.update_organisation(
        session=session, loaded=make_manifest(slug="toko-y", effective=date(2027, 1, 1))
    )
    history = service.policy_history(session=session, organisation=one.organisation)
    assert [v.number for v in history] == [1]
    assert service.get_version(session=session, organisation=one.organisation, number=2) is None
    assert service.get_version(session=session, organisation=two.organisation, number=2) is not None
    assert [o.slug for o in service.list_organisations(session=session)] == ["toko-x", "toko-y"]
    assert service.version_counts(session=session) == {
        one.organisation.id: 1,
        two.organisation.id: 2,
    }


def test_the_stored_manifest_is_read_back(session: Session, make_manifest: MakeManifest) -> None:
    loaded = make_manifest(slug="toko-baca")
    published = service.add_organisation(session=session, loaded=loaded)
    assert service.version_manifest(published.version) == loaded.manifest
