"""The ledger is append-only and hash-chained per organisation: `verify_ledger` (and
`jagadata consent verify`) proves it intact and names the first broken link when someone with
access to the database changed, removed or inserted an event — on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

import pytest
from consent_helpers import (
    GELATO,
    MILLEALAB,
    as_attacker,
    cross_session,
    email,
    event,
    organisation_id,
    record,
)
from faker import Faker
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from jagadata.audit.models import GENESIS_HASH
from jagadata.audit.service import Problem
from jagadata.cli.consent import app as consent_cli
from jagadata.consent.ledger import event_hash, iter_events, verify_ledger
from jagadata.consent.models import AppendOnly, ConsentEvent


def _fill(factory: sessionmaker[Session], faker: Faker, batches: int = 3, size: int = 2) -> None:
    for _ in range(batches):
        record(factory, GELATO, [event(email(faker)) for _ in range(size)])


def test_events_are_chained_in_order_and_verify(
    sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    _fill(sessions_of, faker_id)
    gelato = organisation_id(sessions_of, GELATO)
    with cross_session(sessions_of) as session:
        rows = list(iter_events(session=session, organisation_id=gelato))
        assert [row.sequence for row in rows] == [1, 2, 3, 4, 5, 6]
        assert rows[0].prev_hash == GENESIS_HASH
        for before, after in itertools.pairwise(rows):
            assert after.prev_hash == before.hash
        assert all(event_hash(row._asdict()) == row.hash for row in rows)
        result = verify_ledger(session=session, organisation_id=gelato)
        assert result.ok and result.checked == 6
        other = verify_ledger(
            session=session, organisation_id=organisation_id(sessions_of, MILLEALAB)
        )
        assert other.ok and other.checked == 0


@pytest.mark.parametrize(
    ("statement", "sequence", "problem"),
    [
        (
            "UPDATE consent_event SET kind = 'refused' WHERE organisation_id = :o AND sequence = 4",
            4,
            Problem.HASH_MISMATCH,
        ),
        ("DELETE FROM consent_event WHERE organisation_id = :o AND sequence = 3", 3, Problem.GAP),
        (
            "DELETE FROM consent_event WHERE organisation_id = :o AND sequence = 6",
            6,
            Problem.HEAD_MISMATCH,
        ),
    ],
)
def test_tampering_is_named_at_its_event(
    migrated_engine: Engine,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    statement: str,
    sequence: int,
    problem: Problem,
) -> None:
    _fill(sessions_of, faker_id)
    gelato = organisation_id(sessions_of, GELATO)
    as_attacker(migrated_engine, statement, o=gelato)
    with cross_session(sessions_of) as session:
        broken = verify_ledger(session=session, organisation_id=gelato).broken
    assert broken is not None
    assert (broken.sequence, broken.problem) == (sequence, problem)


def test_a_forged_hash_breaks_the_next_link(
    migrated_engine: Engine, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    _fill(sessions_of, faker_id)
    gelato = organisation_id(sessions_of, GELATO)
    with cross_session(sessions_of) as session:
        third = list(iter_events(session=session, organisation_id=gelato))[2]._asdict()
    forged = {**third, "kind": "refused"}
    as_attacker(
        migrated_engine,
        "UPDATE consent_event SET kind = 'refused', hash = :h "
        "WHERE organisation_id = :o AND sequence = 3",
        h=event_hash(forged),
        o=gelato,
    )
    with cross_session(sessions_of) as session:
        broken = verify_ledger(session=session, organisation_id=gelato).broken
    assert broken is not None
    assert (broken.sequence, broken.problem) == (4, Problem.PREV_HASH_MISMATCH)


def test_the_database_refuses_to_change_or_delete_an_event(
    migrated_engine: Engine, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    _fill(sessions_of, faker_id, batches=1)
    for statement in (
        "UPDATE consent_event SET kind = 'refused'",
        "DELETE FROM consent_event",
        "UPDATE consent_chain SET last_sequence = 0",
        "DELETE FROM consent_chain",
    ):
        with (
            pytest.raises(DBAPIError, match=r"append-only|only grows"),
            migrated_engine.begin() as c,
        ):
            c.execute(text(statement))
    with migrated_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM consent_event")).scalar_one() == 2


def test_the_orm_refuses_to_change_or_delete_an_event(
    sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    _fill(sessions_of, faker_id, batches=1)
    with cross_session(sessions_of) as session:
        first = session.scalars(select(ConsentEvent).order_by(ConsentEvent.sequence)).first()
        assert first is not None
        first.kind = "refused"
        with pytest.raises(AppendOnly):
            session.flush()
        session.rollback()
        with pytest.raises(AppendOnly):
            session.execute(update(ConsentEvent).values(kind="refused"))
        session.rollback()
        session.delete(session.scalars(select(ConsentEvent)).first())
        with pytest.raises(AppendOnly):
            session.flush()


def test_the_cli_proves_every_ledger_and_names_a_broken_link(
    cli_environment: str,
    migrated_engine: Engine,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
) -> None:
    _fill(sessions_of, faker_id)
    runner = CliRunner()
    intact = runner.invoke(consent_cli, ["verify", "--lang", "en"])
    assert intact.exit_code == 0, intact.output
    assert "la-gelato-academy: 6 consent events verified" in intact.output
    assert "millealab: 0 consent events verified" in intact.output
    as_attacker(
        migrated_engine,
        "UPDATE consent_event SET purpose = 'analytics' WHERE organisation_id = :o "
        "AND sequence = 5",
        o=organisation_id(sessions_of, GELATO),
    )
    broken = runner.invoke(consent_cli, ["verify", "--org", GELATO, "--lang", "en"])
    assert broken.exit_code == 1
    assert "broken at event 5" in broken.output and "it was changed" in broken.output
    unknown = runner.invoke(consent_cli, ["verify", "--org", "tidak-ada", "--lang", "en"])
    assert unknown.exit_code == 2 and "no organisation tidak-ada" in unknown.output
