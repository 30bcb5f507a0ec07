"""Recording: entries chain per organisation, commit or roll back with the change they record,
hold no personal data in clear, and can never be changed or deleted — by the ORM or by SQL."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from audit_helpers import append
from faker import Faker
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.models import GENESIS_HASH, AppendOnly, AuditChain, AuditEntry
from jagadata.audit.service import (
    SYSTEM,
    Actor,
    PersonalDataRefused,
    canonical_document,
    entry_hash,
    record,
)
from jagadata.db import atomic
from jagadata.db.tenancy import OrganisationMismatch, TenantScopeMissing, scoped_session


def _entries(session: Session, organisation_id: int | None) -> list[AuditEntry]:
    where = (
        AuditEntry.organisation_id.is_(None)
        if organisation_id is None
        else AuditEntry.organisation_id == organisation_id
    )
    return list(session.scalars(select(AuditEntry).where(where).order_by(AuditEntry.sequence)))


def test_each_organisation_has_its_own_chain_and_so_does_the_system(
    factory: sessionmaker[Session], cross_session: Session, organisations: tuple[int, int]
) -> None:
    a, b = organisations
    append(factory, a, 3)
    append(factory, b, 2)
    append(factory, None, 2, action="user.signed_in")
    for organisation_id, count in ((a, 3), (b, 2), (None, 2)):
        chain = _entries(cross_session, organisation_id)
        assert [e.sequence for e in chain] == list(range(1, count + 1))
        assert chain[0].prev_hash == GENESIS_HASH
        for before, after in itertools.pairwise(chain):
            assert after.prev_hash == before.hash
        head = cross_session.get(AuditChain, organisation_id or 0)
        assert head is not None
        assert (head.last_sequence, head.last_hash) == (count, chain[-1].hash)


def test_the_hash_is_sha256_of_the_canonical_json_with_the_previous_hash(
    factory: sessionmaker[Session], cross_session: Session, organisations: tuple[int, int]
) -> None:
    append(factory, organisations[0], 2)
    second = _entries(cross_session, organisations[0])[1]
    document = json.loads(canonical_document(second.__dict__))
    assert document["prev_hash"] == second.prev_hash
    assert document["occurred_at"].endswith("+00:00")
    assert document["details"] == {"n": 1}
    assert second.hash == hashlib.sha256(canonical_document(second.__dict__)).hexdigest()
    assert entry_hash({**second.__dict__, "details": {"n": 2}}) != second.hash


def test_an_entry_commits_or_rolls_back_with_the_change_it_records(
    factory: sessionmaker[Session], cross_session: Session, organisations: tuple[int, int]
) -> None:
    a = organisations[0]
    with factory() as session:
        with pytest.raises(RuntimeError), atomic(session):
            record(session=session, organisation_id=a, actor=SYSTEM, action="org.published")
            raise RuntimeError("the change failed after the entry was written")
        assert session.scalar(select(func.count()).select_from(AuditChain)) == 0
    assert _entries(cross_session, a) == []
    append(factory, a, 1)
    assert [e.sequence for e in _entries(cross_session, a)] == [1]


def test_who_when_where_and_on_whom_are_kept(
    factory: sessionmaker[Session], cross_session: Session, organisations: tuple[int, int]
) -> None:
    wib = timezone(timedelta(hours=7))
    subject = hashlib.sha256(b"email\x00someone").hexdigest()
    with factory() as session, atomic(session):
        record(
            session=session,
            organisation_id=organisations[0],
            actor=Actor.api_key(42, label="crm-sync"),
            action="person.viewed",
            target_type="request",
            target_id=7,
            subject_ref=subject,
            ip=" 2001:DB8::1 ",
            user_agent="Mozilla/5.0 " + "x" * 400,
            occurred_at=datetime(2026, 4, 28, 9, 30, tzinfo=wib),
        )
    entry = _entries(cross_session, organisations[0])[0]
    assert (entry.actor_kind, entry.actor_id, entry.actor_label) == ("api_key", "42", "crm-sync")
    assert (entry.target_type, entry.target_id, entry.subject_ref) == ("request", "7", subject)
    assert entry.ip == "2001:db8::1"
    assert entry.user_agent is not None and len(entry.user_agent) == 300
    assert entry.occurred_at == datetime(2026, 4, 28, 2, 30, tzinfo=UTC)
    assert entry.details == {}


def test_an_address_that_is_not_an_ip_is_dropped_and_a_user_agent_is_redacted(
    factory: sessionmaker[Session], cross_session: Session, organisations: tuple[int, int]
) -> None:
    email = Faker("id_ID").email()
    with factory() as session, atomic(session):
        record(
            session=session,
            organisation_id=organisations[0],
            actor=SYSTEM,
            action="page.viewed",
            ip=f"{email}, 10.0.0.1",
            user_agent=f"curl/8 (contact {email})",
        )
    entry = _entries(cross_session, organisations[0])[0]
    assert entry.ip is None
    assert entry.user_agent is not None and email not in entry.user_agent
    assert "‹email:" in entry.user_agent


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("details", {"note": "{email}"}),
        ("details", {"contacts": ["ok", {"phone": "{phone}"}]}),
        ("details", {"{email}": 1}),
        ("actor", "{email}"),
        ("target_id", "{phone}"),
        ("subject_ref", "{email}"),
    ],
)
def test_personal_data_in_clear_is_refused_without_being_repeated(
    factory: sessionmaker[Session], organisations: tuple[int, int], field: str, value: object
) -> None:
    faker = Faker("id_ID")
    email, phone = faker.email(), "0812" + faker.numerify("########")
    filled = json.loads(json.dumps(value).replace("{email}", email).replace("{phone}", phone))
    arguments: dict[str, object] = {"actor": SYSTEM}
    if field == "actor":
        arguments["actor"] = Actor.user(1, label=filled)
    else:
        arguments[field] = filled
    with factory() as session, pytest.raises(PersonalDataRefused) as refused:
        record(
            session=session,
            organisation_id=organisations[0],
            action="x.done",
            **arguments,  # type: ignore[arg-type]
        )
    assert email not in str(refused.value) and phone not in str(refused.value)


@pytest.mark.parametrize("action", ["published", "Org.Published", "org.", "org published"])
def test_an_action_is_a_dotted_verb(
    factory: sessionmaker[Session], organisations: tuple[int, int], action: str
) -> None:
    with factory() as session, pytest.raises(ValueError, match="dotted verb"):
        record(session=session, organisation_id=organisations[0], actor=SYSTEM, action=action)


def test_the_orm_refuses_to_change_or_delete_an_entry(
    factory: sessionmaker[Session], organisations: tuple[int, int]
) -> None:
    append(factory, organisations[0], 1)
    with factory() as session:
        session.info["all_organisations"] = True
        entry = session.scalars(select(AuditEntry)).one()
        entry.action = "x.undone"
        with pytest.raises(AppendOnly):
            session.flush()
        session.rollback()
        session.delete(entry)
        with pytest.raises(AppendOnly):
            session.flush()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET action = 'x.undone'",
        "DELETE FROM audit_entry",
        "UPDATE audit_chain SET last_sequence = last_sequence - 1",
        "DELETE FROM audit_chain",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_entry(
    migrated_engine: Engine,
    factory: sessionmaker[Session],
    organisations: tuple[int, int],
    statement: str,
) -> None:
    append(factory, organisations[0], 2)
    with pytest.raises(IntegrityError, match=r"append-only|only grows"):  # noqa: SIM117
        with migrated_engine.begin() as connection:
            connection.execute(text(statement))


def test_the_orm_refuses_bulk_changes_too(
    factory: sessionmaker[Session], organisations: tuple[int, int]
) -> None:
    append(factory, organisations[0], 1)
    with scoped_session(factory, organisations[0]) as session:
        with pytest.raises(AppendOnly):
            session.execute(update(AuditEntry).values(action="x.undone"))
        with pytest.raises(AppendOnly):
            session.execute(delete(AuditEntry))
        assert session.scalars(select(AuditEntry.action)).all() == ["x.done"]


def test_a_session_of_one_organisation_writes_only_to_its_own_chain(
    factory: sessionmaker[Session], organisations: tuple[int, int]
) -> None:
    a, b = organisations
    with scoped_session(factory, a) as session:
        for other in (b, None):
            with pytest.raises(OrganisationMismatch):
                record(session=session, organisation_id=other, actor=SYSTEM, action="x.done")
            session.rollback()
        record(session=session, organisation_id=a, actor=SYSTEM, action="x.done")
        session.commit()
        assert [e.organisation_id for e in session.scalars(select(AuditEntry))] == [a]


def test_reading_entries_needs_an_organisation(
    factory: sessionmaker[Session], organisations: tuple[int, int]
) -> None:
    append(factory, organisations[0], 1)
    with factory() as session, pytest.raises(TenantScopeMissing):
        session.scalars(select(AuditEntry)).all()
