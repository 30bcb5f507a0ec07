"""Appending consent events to an organisation's chain, and proving the chain is intact.

The controller must be able to prove consent (UU PDP Art. 24): every event carries the hash of
the one before it in its organisation's chain, so changing, removing or inserting an event
breaks the chain at that point and `verify_ledger` names it. A batch locks the chain's head
once, numbers its events, hashes them in order and inserts them in one statement.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Generator, Mapping
from contextlib import closing
from datetime import UTC, datetime
from typing import Any, Final, cast

from sqlalchemy import Row, Table, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from jagadata.audit.models import GENESIS_HASH
from jagadata.audit.service import BrokenLink, Problem, VerifyResult, walk_chain
from jagadata.consent.models import ConsentChain, ConsentEvent
from jagadata.db.engine import wait_for_write_lock
from jagadata.db.tenancy import acting_for, ensure_reachable

log = logging.getLogger(__name__)

HASH_VERSION: Final = 1
"""Part of every hashed document, so the canonical form can evolve without ambiguity."""

HASHED_FIELDS: Final = (
    "organisation_id",
    "sequence",
    "kind",
    "subject_ref",
    "purpose",
    "manifest_version",
    "notice_hash",
    "language",
    "channel",
    "actor_kind",
    "actor_id",
    "actor_label",
    "occurred_at",
    "recorded_at",
    "expires_at",
    "child",
    "guardian_ref",
    "evidence",
    "idempotency_key",
    "receipt_id",
    "receipt_kid",
    "prev_hash",
)
EVENT_COLUMNS: Final = (*HASHED_FIELDS, "hash")
_MOMENTS: Final = ("occurred_at", "recorded_at", "expires_at")


def canonical_document(fields: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash is taken over: its fields as sorted, compact UTF-8 JSON."""
    document: dict[str, Any] = {name: fields.get(name) for name in HASHED_FIELDS}
    for name in _MOMENTS:
        moment = document[name]
        if isinstance(moment, datetime):
            document[name] = moment.astimezone(UTC).isoformat(timespec="microseconds")
    document["child"] = bool(document["child"])
    document["v"] = HASH_VERSION
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def event_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical document of an event's fields, `prev_hash` included."""
    return hashlib.sha256(canonical_document(fields)).hexdigest()


def lock_head(session: Session, organisation_id: int) -> ConsentChain:
    """The chain's head row, locked until the caller's transaction ends.

    On SQLite the first statement is a write, so the transaction holds the write lock before
    the last hash is read (writers of one process queue for it, see `wait_for_write_lock`). On
    PostgreSQL `FOR UPDATE` makes a second writer wait for the first; the head is created
    (`ON CONFLICT DO NOTHING`, then locked) only when the lock finds none, so a batch spends
    one round trip here, not two, while the chain is busy.
    """
    values = {"organisation_id": organisation_id, "last_sequence": 0, "last_hash": GENESIS_HASH}
    locking = (
        select(ConsentChain)
        .where(ConsentChain.organisation_id == organisation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        head = session.scalars(locking).one_or_none()
        if head is not None:
            return head
        session.execute(postgresql_insert(ConsentChain).values(values).on_conflict_do_nothing())
        return session.scalars(locking).one()
    wait_for_write_lock(session.connection())
    session.execute(sqlite_insert(ConsentChain).values(values).on_conflict_do_nothing())
    return session.scalars(locking).one()


_INSERT: Final = insert(cast(Table, ConsentEvent.__table__))


def append(session: Session, head: ConsentChain, rows: list[dict[str, Any]]) -> None:
    """Number, chain and insert `rows` (dicts of every hashed field but the chain's own) after
    the locked `head`; each row gains `sequence`, `prev_hash` and `hash`."""
    if not rows:
        return
    sequence, previous = head.last_sequence, head.last_hash
    for row in rows:
        sequence += 1
        row["organisation_id"] = head.organisation_id
        row["sequence"] = sequence
        row["prev_hash"] = previous
        row["hash"] = previous = event_hash(row)
    # Core on the session's connection: every row carries the head's organisation, set above,
    # so the tenancy guard's per-row check would add nothing but time (benchmark B5).
    session.connection().execute(_INSERT, rows)
    head.last_sequence, head.last_hash = sequence, previous
    session.flush()
    log.debug(
        "consent ledger of organisation %d: events %d-%d",
        head.organisation_id,
        rows[0]["sequence"],
        sequence,
    )


def iter_events(
    *, session: Session, organisation_id: int, batch: int = 1000
) -> Generator[Row[Any]]:
    """An organisation's events in chain order, streamed in batches."""
    ensure_reachable(session, organisation_id)
    columns = [getattr(ConsentEvent, name) for name in EVENT_COLUMNS]
    statement = (
        select(*columns)
        .where(ConsentEvent.organisation_id == organisation_id)
        .order_by(ConsentEvent.sequence)
    )
    with acting_for(session, organisation_id):
        result = session.execute(statement.execution_options(yield_per=batch))
    try:
        yield from result
    finally:
        result.close()


def ledger_length(*, session: Session, organisation_id: int) -> int:
    """How many events the chain's head says it has (for a progress bar)."""
    head = session.get(ConsentChain, organisation_id)
    return head.last_sequence if head else 0


def verify_ledger(
    *,
    session: Session,
    organisation_id: int,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Recompute every hash of the organisation's ledger in order; report the first broken link."""
    with closing(iter_events(session=session, organisation_id=organisation_id)) as rows:
        walk = walk_chain(rows, progress, event_hash)
    link = walk.broken
    if link is None:
        head = session.execute(
            select(ConsentChain.last_sequence, ConsentChain.last_hash).where(
                ConsentChain.organisation_id == organisation_id
            )
        ).one_or_none()
        head_sequence, head_hash = head if head is not None else (0, GENESIS_HASH)
        if head_sequence != walk.last or head_hash != walk.last_hash:
            first = min(head_sequence, walk.last) + 1 if head_sequence != walk.last else walk.last
            link = BrokenLink(first, Problem.HEAD_MISMATCH, str(head_sequence), str(walk.last))
    if link is not None:
        log.warning(
            "consent ledger of organisation %d broken at event %d: %s",
            organisation_id,
            link.sequence,
            link.problem.value,
        )
    return VerifyResult(organisation_id, walk.checked, link)
