"""Tenant isolation in one place: a session of organisation A never reads, changes or writes
organisation B's rows — whatever the query, join, relationship or bulk statement — and a
query on an organisation's rows without an organisation fails instead of seeing everyone's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from faker import Faker
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session, aliased, selectinload, sessionmaker

from jagadata.db import atomic, session_factory
from jagadata.db.tenancy import (
    OrganisationMismatch,
    OrgScoped,
    TenantScopeMissing,
    acting_for,
    cross_organisation_session,
    scope,
    scoped_session,
    touched_scoped_tables,
)
from jagadata.orgs import service
from jagadata.orgs.models import ManifestVersion, Organisation, PolicyVersion


@dataclass(frozen=True)
class Tenants:
    a: int
    b: int
    versions: dict[int, list[int]]
    """Manifest version ids per organisation id."""


def _version(organisation_id: int, number: int) -> ManifestVersion:
    return ManifestVersion(
        organisation_id=organisation_id,
        number=number,
        content_hash=f"{organisation_id:032x}{number:032x}",
        yaml_text="jagadata: 1\n",
        effective=date(2026, 1, number),
        created_at=datetime.now(UTC),
    )


def _policy(version: ManifestVersion, lang: str) -> PolicyVersion:
    return PolicyVersion(
        organisation_id=version.organisation_id,
        manifest_version_id=version.id,
        lang=lang,
        format="html",
        content="<p>kebijakan</p>",
        document="<html></html>",
        content_hash="0" * 64,
        effective=version.effective,
        published_at=datetime.now(UTC),
    )


@pytest.fixture
def factory(migrated_engine: Engine) -> sessionmaker[Session]:
    return session_factory(migrated_engine)


@pytest.fixture
def tenants(factory: sessionmaker[Session]) -> Tenants:
    """Organisation A with two versions, B with three; two policies per version."""
    faker = Faker("id_ID")
    versions: dict[int, list[int]] = {}
    with factory() as session, atomic(session):
        ids = []
        for slug, count in (("toko-a", 2), ("toko-b", 3)):
            organisation = Organisation(
                slug=slug, name=faker.company(), created_at=datetime.now(UTC)
            )
            session.add(organisation)
            session.flush()
            made = [_version(organisation.id, n) for n in range(1, count + 1)]
            session.add_all(made)
            session.flush()
            session.add_all([_policy(v, lang) for v in made for lang in ("id", "en")])
            versions[organisation.id] = [v.id for v in made]
            ids.append(organisation.id)
    return Tenants(ids[0], ids[1], versions)


@pytest.fixture
def session_a(factory: sessionmaker[Session], tenants: Tenants) -> Iterator[Session]:
    with scoped_session(factory, tenants.a) as session:
        yield session


@pytest.fixture
def everyone(factory: sessionmaker[Session], tenants: Tenants) -> Iterator[Session]:
    with cross_organisation_session(factory) as session:
        yield session


# --- a session without an organisation ---------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(select(ManifestVersion), id="entity"),
        pytest.param(select(PolicyVersion.lang), id="column"),
        pytest.param(select(func.count()).select_from(ManifestVersion), id="count"),
        pytest.param(select(Organisation).join(Organisation.manifest_versions), id="join"),
        pytest.param(
            select(Organisation).where(
                Organisation.id.in_(select(ManifestVersion.organisation_id))
            ),
            id="subquery",
        ),
        pytest.param(select(aliased(PolicyVersion)), id="alias"),
        pytest.param(update(PolicyVersion).values(content=""), id="bulk-update"),
        pytest.param(delete(PolicyVersion), id="bulk-delete"),
        pytest.param(select(ManifestVersion.__table__), id="core"),
    ],
)
def test_an_organisations_rows_cannot_be_queried_without_an_organisation(
    factory: sessionmaker[Session], tenants: Tenants, statement: object
) -> None:
    with factory() as session, pytest.raises(TenantScopeMissing):
        session.execute(statement)  # type: ignore[call-overload]


def test_fetching_by_primary_key_without_an_organisation_fails(
    factory: sessionmaker[Session], tenants: Tenants
) -> None:
    with factory() as session, pytest.raises(TenantScopeMissing):
        session.get(ManifestVersion, tenants.versions[tenants.b][0])


def test_organisations_themselves_are_listed_without_one(
    factory: sessionmaker[Session], tenants: Tenants
) -> None:
    with factory() as session:
        slugs = session.scalars(select(Organisation.slug).order_by(Organisation.slug)).all()
    assert slugs == ["toko-a", "toko-b"]


def test_a_cross_organisation_session_sees_every_organisation(
    everyone: Session, tenants: Tenants
) -> None:
    organisations = set(everyone.scalars(select(ManifestVersion.organisation_id)))
    assert organisations == {tenants.a, tenants.b}
    assert everyone.scalar(select(func.count()).select_from(PolicyVersion)) == 2 * (2 + 3)


# --- a session of organisation A ---------------------------------------------------------------


def test_a_session_of_a_reads_only_as_rows(session_a: Session, tenants: Tenants) -> None:
    versions = session_a.scalars(select(ManifestVersion)).all()
    assert sorted(v.id for v in versions) == sorted(tenants.versions[tenants.a])
    assert {p.organisation_id for p in session_a.scalars(select(PolicyVersion))} == {tenants.a}
    assert session_a.scalar(select(func.count()).select_from(PolicyVersion)) == 4
    assert session_a.get(ManifestVersion, tenants.versions[tenants.b][0]) is None


def test_asking_for_bs_rows_by_name_finds_nothing(session_a: Session, tenants: Tenants) -> None:
    asked = select(ManifestVersion).where(ManifestVersion.organisation_id == tenants.b)
    assert session_a.scalars(asked).all() == []
    alias = aliased(ManifestVersion)
    assert session_a.scalars(select(alias).where(alias.organisation_id == tenants.b)).all() == []


def test_joins_and_subqueries_are_narrowed_too(session_a: Session, tenants: Tenants) -> None:
    joined = session_a.scalars(
        select(Organisation.id).join(Organisation.manifest_versions).distinct()
    ).all()
    assert joined == [tenants.a]
    through_policies = session_a.scalars(
        select(ManifestVersion.id).join(ManifestVersion.policies).distinct()
    ).all()
    assert sorted(through_policies) == sorted(tenants.versions[tenants.a])
    having_versions = session_a.scalars(
        select(Organisation.id).where(Organisation.id.in_(select(ManifestVersion.organisation_id)))
    ).all()
    assert having_versions == [tenants.a]


def test_relationships_of_another_organisation_load_empty(
    session_a: Session, tenants: Tenants
) -> None:
    other = session_a.get(Organisation, tenants.b)
    assert other is not None
    assert other.manifest_versions == []
    eager = session_a.scalars(
        select(Organisation).options(selectinload(Organisation.manifest_versions))
    ).all()
    assert {o.id: len(o.manifest_versions) for o in eager} == {tenants.a: 2, tenants.b: 0}


def test_bulk_update_and_delete_touch_only_as_rows(
    factory: sessionmaker[Session], session_a: Session, everyone: Session, tenants: Tenants
) -> None:
    with atomic(session_a):
        session_a.execute(update(PolicyVersion).values(content="<p>diubah</p>"))
    changed = everyone.execute(select(PolicyVersion.organisation_id, PolicyVersion.content)).all()
    assert {o for o, content in changed if content == "<p>diubah</p>"} == {tenants.a}
    assert any(o == tenants.b and content != "<p>diubah</p>" for o, content in changed)

    with atomic(session_a):
        session_a.execute(delete(PolicyVersion))
    everyone.expire_all()
    left = everyone.scalars(select(PolicyVersion.organisation_id)).all()
    assert set(left) == {tenants.b}
    assert len(left) == 6


def test_a_session_of_a_never_writes_bs_rows(session_a: Session, tenants: Tenants) -> None:
    session_a.add(_version(tenants.b, 9))
    with pytest.raises(OrganisationMismatch):
        session_a.flush()
    session_a.rollback()

    row = {
        "organisation_id": tenants.b,
        "number": 9,
        "content_hash": "f" * 64,
        "yaml_text": "",
        "effective": date(2026, 1, 1),
        "created_at": datetime.now(UTC),
    }
    with pytest.raises(OrganisationMismatch):
        session_a.execute(insert(ManifestVersion), [row])
    session_a.rollback()

    own = session_a.scalars(select(ManifestVersion)).first()
    assert own is not None
    own.organisation_id = tenants.b  # moving a row to another organisation is a write to it
    with pytest.raises(OrganisationMismatch):
        session_a.flush()


def test_a_session_of_a_writes_its_own_rows(session_a: Session, tenants: Tenants) -> None:
    with atomic(session_a):
        session_a.add(_version(tenants.a, 7))
    assert session_a.scalar(select(func.count()).select_from(ManifestVersion)) == 3


def test_a_core_statement_cannot_be_narrowed_so_it_is_refused(
    session_a: Session, tenants: Tenants
) -> None:
    with pytest.raises(OrganisationMismatch):
        session_a.execute(select(ManifestVersion.__table__))


def test_a_session_cannot_change_organisation(session_a: Session, tenants: Tenants) -> None:
    with pytest.raises(OrganisationMismatch):
        scope(session_a, tenants.b)
    assert scope(session_a, tenants.a) is session_a


def test_sessions_of_different_organisations_never_share_a_cached_query(
    factory: sessionmaker[Session], tenants: Tenants
) -> None:
    statement = select(ManifestVersion.organisation_id).distinct()
    for organisation_id in (tenants.a, tenants.b, tenants.a):
        with scoped_session(factory, organisation_id) as session:
            assert session.scalars(statement).all() == [organisation_id]


# --- service functions given an organisation explicitly ----------------------------------------


def test_a_service_narrows_an_unbound_session_to_the_organisation_it_is_given(
    factory: sessionmaker[Session], tenants: Tenants
) -> None:
    with factory() as session:
        b = session.get(Organisation, tenants.b)
        assert b is not None
        history = service.policy_history(session=session, organisation=b)
        assert [v.number for v in history] == [3, 2, 1]
        assert "organisation_id" not in session.info
        with pytest.raises(TenantScopeMissing):
            session.scalars(select(ManifestVersion)).all()


def test_a_session_of_a_asking_a_service_for_b_finds_nothing(
    session_a: Session, tenants: Tenants
) -> None:
    b = session_a.get(Organisation, tenants.b)
    assert b is not None
    assert service.policy_history(session=session_a, organisation=b) == []
    assert service.get_version(session=session_a, organisation=b, number=1) is None
    assert service.current_version(session=session_a, organisation=b) is None
    assert service.version_counts(session=session_a) == {tenants.a: 2}
    with acting_for(session_a, tenants.b):
        assert session_a.scalars(select(ManifestVersion.organisation_id)).all() == [tenants.a] * 2


def test_every_scoped_model_carries_an_indexed_organisation() -> None:
    for model in (ManifestVersion, PolicyVersion):
        assert issubclass(model, OrgScoped)
        column = model.__table__.c.organisation_id
        assert column.index and not column.nullable
        assert "organisation" in {fk.column.table.name for fk in column.foreign_keys}
    assert touched_scoped_tables(select(Organisation)) == set()
