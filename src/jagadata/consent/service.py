"""Recording consent: a batch of events checked against the manifest in force, appended to the
organisation's chain, reflected in the current state and audited — all in one transaction.

UU PDP asks for explicit consent to stated purposes (Art. 20(2)(a)), given to a request that
said what it had to (Art. 21), written or recorded (Art. 22), provable by the controller
(Art. 24), from a parent or guardian for a child (Art. 25), and withdrawable (Art. 9, 40).
So an event names a consent-based purpose of the version in force, the hash of the exact text
shown in the language shown, its channel and evidence; a child's consent names a guardian.
A batch is all or nothing: any problem is reported with its place (`events[3].purpose`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, select, tuple_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from jagadata.audit.service import Actor, record
from jagadata.consent import ledger, signing
from jagadata.consent.models import (
    STATUS_OF,
    ConsentBatch,
    ConsentContact,
    ConsentEvent,
    ConsentState,
    EventKind,
    Status,
)
from jagadata.consent.schemas import EventIn
from jagadata.consent.validation import (
    RECEIPT_KINDS,
    ConsentInvalid,
    Draft,
    FieldError,
    Prepared,
    prepare,
    subject_reference,
)
from jagadata.db.base import utcnow
from jagadata.db.tenancy import acting_for
from jagadata.i18n import N_

__all__ = [
    "ConsentInvalid",
    "FieldError",
    "IdempotencyConflict",
    "LedgerEvent",
    "Recorded",
    "record_events",
    "subject_reference",
]


class IdempotencyConflict(Exception):
    """The batch's idempotency key was used before for a different batch."""


@dataclass(frozen=True)
class LedgerEvent:
    """An event as recorded, and whether it was recorded earlier (an idempotent replay)."""

    organisation_id: int
    sequence: int
    kind: str
    subject_ref: str
    purpose: str
    manifest_version: int
    notice_hash: str
    language: str
    channel: str
    actor_kind: str
    actor_id: str | None
    actor_label: str | None
    occurred_at: datetime
    recorded_at: datetime
    expires_at: datetime | None
    child: bool
    guardian_ref: str | None
    evidence: dict[str, Any]
    idempotency_key: str | None
    receipt_id: str | None
    receipt_kid: str | None
    prev_hash: str
    hash: str
    replayed: bool = False

    @classmethod
    def of(cls, values: Mapping[Any, Any], *, replayed: bool = False) -> LedgerEvent:
        return cls(**{name: values[name] for name in ledger.EVENT_COLUMNS}, replayed=replayed)

    @classmethod
    def of_event(cls, event: ConsentEvent) -> LedgerEvent:
        return cls(**{name: getattr(event, name) for name in ledger.EVENT_COLUMNS})


@dataclass(frozen=True)
class Recorded:
    events: list[LedgerEvent]
    replayed: bool = False


def record_events(
    *,
    session: Session,
    organisation_id: int,
    events: Sequence[EventIn],
    actor: Actor,
    batch_key: str | None = None,
    now: datetime | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    action: str = "consent.recorded",
) -> Recorded:
    """Record a batch (all or nothing) in the caller's transaction; it does not commit.

    Raises ConsentInvalid listing every problem, or IdempotencyConflict. With `batch_key` or
    per-event idempotency keys, a retried batch records nothing new and returns the events
    recorded the first time.
    """
    now = now or utcnow()
    with acting_for(session, organisation_id):
        prepared = prepare(session, organisation_id, events, batch_key, now)
        head = ledger.lock_head(session, organisation_id)
        if batch_key is not None:
            earlier = _earlier_batch(session, organisation_id, batch_key, prepared.fingerprint)
            if earlier is not None:
                return Recorded(earlier, replayed=True)
        replays = _replays(session, organisation_id, prepared)
        new = [draft for draft in prepared.drafts if draft.index not in replays]
        _check_renewals(session, organisation_id, new)
        if any(draft.row["kind"] in RECEIPT_KINDS for draft in new):
            kid = signing.signing_key(session=session, organisation_id=organisation_id, now=now).kid
            for draft in new:
                if draft.row["kind"] in RECEIPT_KINDS:
                    draft.row["receipt_id"] = secrets.token_urlsafe(16)
                    draft.row["receipt_kid"] = kid
        rows = [
            {
                **draft.row,
                "actor_kind": actor.kind.value,
                "actor_id": actor.id,
                "actor_label": actor.label,
                "recorded_at": now,
            }
            for draft in new
        ]
        ledger.append(session, head, rows)
        _update_states(session, rows)
        _keep_contacts(session, organisation_id, [d for d in new if d.contact], now)
        written = iter(rows)
        result = [
            replays[draft.index] if draft.index in replays else LedgerEvent.of(next(written))
            for draft in prepared.drafts
        ]
        if batch_key is not None:
            session.add(
                ConsentBatch(
                    organisation_id=organisation_id,
                    idempotency_key=batch_key,
                    fingerprint=prepared.fingerprint,
                    sequences=[event.sequence for event in result],
                    created_at=now,
                )
            )
            session.flush()
    if rows:
        _audit(session, organisation_id, actor, action, rows, batch_key, ip, user_agent, now)
    return Recorded(result)


def _earlier_batch(
    session: Session, organisation_id: int, key: str, fingerprint: str
) -> list[LedgerEvent] | None:
    batch = session.scalars(
        select(ConsentBatch).where(
            ConsentBatch.organisation_id == organisation_id, ConsentBatch.idempotency_key == key
        )
    ).one_or_none()
    if batch is None:
        return None
    if batch.fingerprint != fingerprint:
        raise IdempotencyConflict(key)
    found = events_by_sequence(
        session=session, organisation_id=organisation_id, sequences=batch.sequences
    )
    return [LedgerEvent.of(found[sequence], replayed=True) for sequence in batch.sequences]


def events_by_sequence(
    *, session: Session, organisation_id: int, sequences: Sequence[int]
) -> dict[int, Mapping[Any, Any]]:
    columns = [getattr(ConsentEvent, name) for name in ledger.EVENT_COLUMNS]
    found: dict[int, Mapping[Any, Any]] = {}
    ordered = sorted(set(sequences))
    with acting_for(session, organisation_id):
        for start in range(0, len(ordered), 500):
            for row in session.execute(
                select(*columns).where(
                    ConsentEvent.organisation_id == organisation_id,
                    ConsentEvent.sequence.in_(ordered[start : start + 500]),
                )
            ):
                found[row.sequence] = row._mapping
    return found


def _replays(session: Session, organisation_id: int, prepared: Prepared) -> dict[int, LedgerEvent]:
    """Events whose idempotency key was recorded before: the earlier event, if it is the same."""
    keyed = {d.row["idempotency_key"]: d for d in prepared.drafts if d.row["idempotency_key"]}
    if not keyed:
        return {}
    columns = [getattr(ConsentEvent, name) for name in ledger.EVENT_COLUMNS]
    replays: dict[int, LedgerEvent] = {}
    errors: list[FieldError] = []
    keys = sorted(keyed)
    for start in range(0, len(keys), 500):
        for row in session.execute(
            select(*columns).where(
                ConsentEvent.organisation_id == organisation_id,
                ConsentEvent.idempotency_key.in_(keys[start : start + 500]),
            )
        ):
            draft = keyed[row.idempotency_key]
            same = (row.kind, row.subject_ref, row.purpose) == (
                draft.row["kind"],
                draft.row["subject_ref"],
                draft.row["purpose"],
            )
            if not same:
                errors.append(
                    FieldError(
                        f"events[{draft.index}].idempotency_key",
                        N_("This key was already used for another event (number {sequence})."),
                        {"sequence": row.sequence},
                    )
                )
            replays[draft.index] = LedgerEvent.of(row._mapping, replayed=True)
    if errors:
        raise ConsentInvalid(errors)
    return replays


def _check_renewals(session: Session, organisation_id: int, drafts: list[Draft]) -> None:
    """`renewed` confirms a consent that was given (and may have expired), nothing else."""
    pairs = {
        (d.row["subject_ref"], d.row["purpose"])
        for d in drafts
        if d.row["kind"] == EventKind.RENEWED.value
    }
    if not pairs:
        return
    status = dict(current_statuses(session=session, organisation_id=organisation_id, pairs=pairs))
    errors = []
    for draft in drafts:
        pair = (draft.row["subject_ref"], draft.row["purpose"])
        if draft.row["kind"] == EventKind.RENEWED.value and status.get(pair) not in (
            Status.GIVEN.value,
            Status.EXPIRED.value,
        ):
            errors.append(
                FieldError(
                    f"events[{draft.index}].kind",
                    N_(
                        "There is no consent to renew for this person and {purpose}; record "
                        "'given' instead."
                    ),
                    {"purpose": draft.row["purpose"]},
                )
            )
        if pair in pairs:
            status[pair] = STATUS_OF[EventKind(draft.row["kind"])].value
    if errors:
        raise ConsentInvalid(errors)


def current_statuses(
    *, session: Session, organisation_id: int, pairs: set[tuple[str, str]]
) -> list[tuple[tuple[str, str], str]]:
    ordered = sorted(pairs)
    found: list[tuple[tuple[str, str], str]] = []
    with acting_for(session, organisation_id):
        for start in range(0, len(ordered), 400):
            chunk = ordered[start : start + 400]
            rows = session.execute(
                select(ConsentState.subject_ref, ConsentState.purpose, ConsentState.status).where(
                    ConsentState.organisation_id == organisation_id,
                    tuple_(ConsentState.subject_ref, ConsentState.purpose).in_(chunk),
                )
            )
            found.extend(((row.subject_ref, row.purpose), row.status) for row in rows)
    return found


STATE_FIELDS: Final = (
    "status",
    "sequence",
    "event_kind",
    "event_hash",
    "manifest_version",
    "occurred_at",
    "expires_at",
)


def _upsert(postgres: bool) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE of states, kept when the stored one happened later.
    Core, like the ledger's insert: each row names its organisation explicitly."""
    table = cast(Table, ConsentState.__table__)
    statement = (postgresql_insert if postgres else sqlite_insert)(table)
    return statement.on_conflict_do_update(
        index_elements=["organisation_id", "subject_ref", "purpose"],
        set_={name: statement.excluded[name] for name in STATE_FIELDS},
        where=table.c.occurred_at <= statement.excluded.occurred_at,
    )


_UPSERTS: Final = {False: _upsert(False), True: _upsert(True)}


def _update_states(session: Session, rows: list[dict[str, Any]]) -> None:
    """The latest event per person and purpose becomes their state, unless the state already
    rests on an event that happened later (a paper form recorded after a withdrawal)."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        pair = (row["subject_ref"], row["purpose"])
        if pair not in latest or latest[pair]["occurred_at"] <= row["occurred_at"]:
            latest[pair] = row
    if not latest:
        return
    states = [
        {
            "organisation_id": row["organisation_id"],
            "subject_ref": row["subject_ref"],
            "purpose": row["purpose"],
            "status": STATUS_OF[EventKind(row["kind"])].value,
            "sequence": row["sequence"],
            "event_kind": row["kind"],
            "event_hash": row["hash"],
            "manifest_version": row["manifest_version"],
            "occurred_at": row["occurred_at"],
            "expires_at": row["expires_at"],
        }
        for row in latest.values()
    ]
    postgres = session.get_bind().dialect.name == "postgresql"
    session.connection().execute(_UPSERTS[postgres], states)


def _keep_contacts(
    session: Session, organisation_id: int, drafts: list[Draft], now: datetime
) -> None:
    for draft in drafts:
        assert draft.contact is not None
        kind, value = draft.contact
        contact = session.get(ConsentContact, (organisation_id, draft.row["subject_ref"], kind))
        if contact is None:
            session.add(
                ConsentContact(
                    organisation_id=organisation_id,
                    subject_ref=draft.row["subject_ref"],
                    kind=kind,
                    value=value,
                    created_at=now,
                )
            )
        else:
            contact.value, contact.created_at = value, now
    if drafts:
        session.flush()


def _audit(
    session: Session,
    organisation_id: int,
    actor: Actor,
    action: str,
    rows: list[dict[str, Any]],
    batch_key: str | None,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
) -> None:
    subjects = {row["subject_ref"] for row in rows}
    only = next(iter(subjects)) if len(subjects) == 1 else None
    kinds: dict[str, int] = {}
    for row in rows:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
    first, last = rows[0]["sequence"], rows[-1]["sequence"]
    record(
        session=session,
        organisation_id=organisation_id,
        actor=actor,
        action=action,
        target_type="consent_event",
        target_id=str(first) if first == last else f"{first}-{last}",
        subject_ref=only if only and not only.startswith("anon_") else None,
        ip=ip,
        user_agent=user_agent,
        details={
            "events": len(rows),
            "kinds": kinds,
            "purposes": sorted({row["purpose"] for row in rows}),
            "subjects": len(subjects),
            **({"batch_key": batch_key} if batch_key else {}),
        },
        occurred_at=now,
    )
