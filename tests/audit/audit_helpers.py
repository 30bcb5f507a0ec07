"""Filling chains, and what an attacker with access to the database would do."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.service import Actor, record
from jagadata.db import atomic

ATTACKER_DROPS = {
    "sqlite": ["DROP TRIGGER audit_entry_no_update", "DROP TRIGGER audit_entry_no_delete"],
    "postgresql": ["DROP TRIGGER audit_entry_append_only ON audit_entry"],
}


def append(
    factory: sessionmaker[Session], organisation_id: int | None, count: int, action: str = "x.done"
) -> None:
    """`count` entries in the chain, each in its own transaction."""
    with factory() as session:
        for number in range(count):
            with atomic(session):
                record(
                    session=session,
                    organisation_id=organisation_id,
                    actor=Actor.user(number % 3 + 1),
                    action=action,
                    target_type="thing",
                    target_id=number,
                    details={"n": number},
                )


def as_attacker(engine: Engine, *statements: str, **values: object) -> None:
    """Raw SQL straight to the database, with the append-only triggers dropped first."""
    with engine.begin() as connection:
        for drop in ATTACKER_DROPS[engine.dialect.name]:
            connection.execute(text(drop))
        for statement in statements:
            connection.execute(text(statement), values)
