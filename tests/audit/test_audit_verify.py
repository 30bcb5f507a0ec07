"""`verify_chain` proves a chain intact, and names the first broken link when someone with
access to the database changed, removed or inserted an entry behind the application's back."""

from __future__ import annotations

import pytest
from audit_helpers import append, as_attacker
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.service import Problem, entry_hash, iter_entries, verify_chain
from jagadata.db.tenancy import OrganisationMismatch, TenantScopeMissing, scoped_session


def test_an_untouched_chain_verifies(
    factory: sessionmaker[Session], cross_session: Session, organisations: tuple[int, int]
) -> None:
    a, b = organisations
    append(factory, a, 5)
    append(factory, None, 2)
    seen: list[int] = []
    result = verify_chain(session=cross_session, organisation_id=a, progress=seen.append)
    assert result.ok and result.broken is None
    assert result.checked == 5 and sum(seen) == 5
    assert verify_chain(session=cross_session, organisation_id=None).checked == 2
    empty = verify_chain(session=cross_session, organisation_id=b)
    assert empty.ok and empty.checked == 0


def test_a_changed_entry_is_named(
    migrated_engine: Engine,
    factory: sessionmaker[Session],
    cross_session: Session,
    organisations: tuple[int, int],
) -> None:
    a, b = organisations
    append(factory, a, 6)
    append(factory, b, 6)
    as_attacker(
        migrated_engine,
        "UPDATE audit_entry SET action = 'x.undone' WHERE organisation_id = :o AND sequence = 4",
        o=a,
    )
    result = verify_chain(session=cross_session, organisation_id=a)
    assert not result.ok and result.broken is not None
    assert (result.broken.sequence, result.broken.problem) == (4, Problem.HASH_MISMATCH)
    assert result.checked == 4
    assert verify_chain(session=cross_session, organisation_id=b).ok


def test_a_changed_entry_with_a_recomputed_hash_breaks_the_next_link(
    migrated_engine: Engine,
    factory: sessionmaker[Session],
    cross_session: Session,
    organisations: tuple[int, int],
) -> None:
    a = organisations[0]
    append(factory, a, 5)
    third = list(iter_entries(session=cross_session, organisation_id=a))[2]
    forged = {**third._asdict(), "action": "x.undone"}
    cross_session.rollback()
    as_attacker(
        migrated_engine,
        "UPDATE audit_entry SET action = 'x.undone', hash = :h "
        "WHERE organisation_id = :o AND sequence = 3",
        h=entry_hash(forged),
        o=a,
    )
    broken = verify_chain(session=cross_session, organisation_id=a).broken
    assert broken is not None
    assert (broken.sequence, broken.problem) == (4, Problem.PREV_HASH_MISMATCH)


def test_a_removed_entry_is_a_gap(
    migrated_engine: Engine,
    factory: sessionmaker[Session],
    cross_session: Session,
    organisations: tuple[int, int],
) -> None:
    a = organisations[0]
    append(factory, a, 5)
    as_attacker(
        migrated_engine,
        "DELETE FROM audit_entry WHERE organisation_id = :o AND sequence = 2",
        o=a,
    )
    broken = verify_chain(session=cross_session, organisation_id=a).broken
    assert broken is not None
    assert (broken.sequence, broken.problem, broken.found) == (2, Problem.GAP, "3")


def test_removing_the_newest_entries_is_noticed(
    migrated_engine: Engine,
    factory: sessionmaker[Session],
    cross_session: Session,
    organisations: tuple[int, int],
) -> None:
    append(factory, None, 5)
    as_attacker(
        migrated_engine, "DELETE FROM audit_entry WHERE organisation_id IS NULL AND sequence > 3"
    )
    broken = verify_chain(session=cross_session, organisation_id=None).broken
    assert broken is not None
    assert (broken.sequence, broken.problem) == (4, Problem.HEAD_MISMATCH)
    assert (broken.expected, broken.found) == ("5", "3")


def test_a_session_of_one_organisation_cannot_verify_another_chain(
    factory: sessionmaker[Session], organisations: tuple[int, int]
) -> None:
    a, b = organisations
    append(factory, a, 2)
    with scoped_session(factory, a) as session:
        assert verify_chain(session=session, organisation_id=a).checked == 2
        for other in (b, None):
            with pytest.raises(OrganisationMismatch):
                verify_chain(session=session, organisation_id=other)
    with factory() as session:
        assert verify_chain(session=session, organisation_id=a).checked == 2
        with pytest.raises(TenantScopeMissing):
            verify_chain(session=session, organisation_id=None)
