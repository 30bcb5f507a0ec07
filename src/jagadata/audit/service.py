"""Recording audit entries in the caller's transaction, and proving a chain is intact.

UU PDP Art. 47 makes the controller answerable for its processing; Art. 35-39 ask for
security measures. The trail is the evidence: who did what, when, from where, on which
record or person. Each organisation's entries form one chain (entries of no organisation form
their own): every entry carries the hash of the one before it, so changing, removing or
inserting an entry breaks the chain at that point, and `verify_chain` names it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import re
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Row, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jagadata.audit.models import (
    ACTION_MAX,
    GENESIS_HASH,
    SYSTEM_CHAIN,
    USER_AGENT_MAX,
    ActorKind,
    AuditChain,
    AuditEntry,
)
from jagadata.db.tenancy import acting_for, ensure_reachable
from jagadata.logs import personal_data_kind, redact

log = logging.getLogger(__name__)

HASH_VERSION: Final = 1
"""Part of every hashed document, so the canonical form can evolve without ambiguity."""

_ACTION: Final = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_TARGET_TYPE: Final = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SUBJECT_REF: Final = re.compile(r"^[0-9a-f]{16,128}$")
_DETAILS_MAX_BYTES: Final = 16_384
PROGRESS_STEP: Final = 1000

HASHED_FIELDS: Final = (
    "organisation_id",
    "sequence",
    "occurred_at",
    "actor_kind",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "subject_ref",
    "ip",
    "user_agent",
    "details",
    "prev_hash",
)


class PersonalDataRefused(ValueError):
    """Something meant for the trail looks like personal data; the message never repeats it."""


@dataclass(frozen=True)
class Actor:
    """Who acted: a user id, an API key id, the system, or a data subject by keyed hash."""

    kind: ActorKind
    id: str | None = None
    label: str | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, None, label)

    @classmethod
    def user(cls, user_id: int | str, label: str | None = None) -> Actor:
        return cls(ActorKind.USER, str(user_id), label)

    @classmethod
    def api_key(cls, key_id: int | str, label: str | None = None) -> Actor:
        return cls(ActorKind.API_KEY, str(key_id), label)

    @classmethod
    def data_subject(cls, subject_ref: str) -> Actor:
        return cls(ActorKind.DATA_SUBJECT, subject_ref, None)


SYSTEM: Final = Actor.system()


def record(
    *,
    session: Session,
    organisation_id: int | None,
    actor: Actor,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    subject_ref: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    details: Mapping[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> AuditEntry:
    """Append an entry to the organisation's chain inside the caller's transaction.

    It does not commit: the entry and the change it records commit or roll back together.
    `subject_ref` is a keyed hash of the person's normalised identity, never the identity.
    `ip` is kept as given when it is an IP address (security evidence, Art. 35-39); anything
    else is dropped. Emails, phone numbers and NIKs in the user agent are replaced by tokens.
    """
    fields = _validated(
        organisation_id=organisation_id,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        subject_ref=subject_ref,
        ip=ip,
        user_agent=user_agent,
        details=details,
        occurred_at=occurred_at or datetime.now(UTC),
    )
    chain_id = _chain_id(organisation_id)
    head = _lock_chain_head(session, chain_id)
    fields["sequence"] = head.last_sequence + 1
    fields["prev_hash"] = head.last_hash
    entry = AuditEntry(**fields, hash=entry_hash(fields))
    head.last_sequence = entry.sequence
    head.last_hash = entry.hash
    session.add(entry)
    session.flush()
    log.debug("audit %s: entry %d of chain %d", action, entry.sequence, chain_id)
    return entry


def _validated(
    *,
    organisation_id: int | None,
    actor: Actor,
    action: str,
    target_type: str | None,
    target_id: str | int | None,
    subject_ref: str | None,
    ip: str | None,
    user_agent: str | None,
    details: Mapping[str, Any] | None,
    occurred_at: datetime,
) -> dict[str, Any]:
    if not _ACTION.match(action) or len(action) > ACTION_MAX:
        raise ValueError(f"action {action!r} is not a dotted verb such as 'org.published'")
    if target_type is not None and not _TARGET_TYPE.match(target_type):
        raise ValueError(f"target type {target_type!r} is not a lower-case name")
    if subject_ref is not None and not _SUBJECT_REF.match(subject_ref):
        raise PersonalDataRefused("subject_ref must be a keyed hash (hex), never an identity")
    if actor.kind is ActorKind.DATA_SUBJECT and not _SUBJECT_REF.match(actor.id or ""):
        raise PersonalDataRefused("a data subject acts under a keyed hash of their identity")
    target = None if target_id is None else str(target_id)
    for name, value in (
        ("actor id", actor.id),
        ("actor label", actor.label),
        ("target id", target),
    ):
        _refuse_personal(name, value)
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at needs a timezone (UTC)")
    return {
        "organisation_id": organisation_id,
        "occurred_at": occurred_at.astimezone(UTC),
        "actor_kind": actor.kind.value,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "action": action,
        "target_type": target_type,
        "target_id": target,
        "subject_ref": subject_ref,
        "ip": _address(ip),
        "user_agent": redact(user_agent)[:USER_AGENT_MAX] if user_agent else None,
        "details": _clean_details(details or {}),
    }


def _refuse_personal(where: str, value: str | None) -> None:
    kind = personal_data_kind(value) if value else None
    if kind is not None:
        raise PersonalDataRefused(f"{where} looks like {kind}: the trail never holds it in clear")


def _clean_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details as the database gives them back (a JSON round trip), checked for personal data."""
    try:
        text = json.dumps(details, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"details must be plain JSON: {error}") from None
    if len(text.encode("utf-8")) > _DETAILS_MAX_BYTES:
        raise ValueError(f"details exceed {_DETAILS_MAX_BYTES} bytes; keep facts, not documents")
    cleaned: dict[str, Any] = json.loads(text)
    for path, value in _strings(cleaned, "details"):
        _refuse_personal(path, value)
    return cleaned


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, f"{path} key")
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _address(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return None


def _lock_chain_head(session: Session, chain_id: int) -> AuditChain:
    """The chain's head row, locked until the caller's transaction ends.

    The first statement is a write, so on SQLite the transaction holds the write lock before
    the last hash is read; on PostgreSQL `FOR UPDATE` makes a second writer wait for the first.
    """
    values = {"chain_id": chain_id, "last_sequence": 0, "last_hash": GENESIS_HASH}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql_insert(AuditChain).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite_insert(AuditChain).values(values).on_conflict_do_nothing())
    elif session.get(AuditChain, chain_id) is None:
        try:
            with session.begin_nested():
                session.add(AuditChain(**values))
        except IntegrityError:
            pass
    return session.scalars(
        select(AuditChain)
        .where(AuditChain.chain_id == chain_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def canonical_document(fields: Mapping[str, Any]) -> bytes:
    """The bytes an entry's hash is taken over: its fields as sorted, compact UTF-8 JSON."""
    document: dict[str, Any] = {name: fields.get(name) for name in HASHED_FIELDS}
    moment = document["occurred_at"]
    if isinstance(moment, datetime):
        document["occurred_at"] = moment.astimezone(UTC).isoformat(timespec="microseconds")
    document["v"] = HASH_VERSION
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def entry_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical document of an entry's fields, `prev_hash` included."""
    return hashlib.sha256(canonical_document(fields)).hexdigest()


ENTRY_COLUMNS: Final = (*HASHED_FIELDS, "hash")


def iter_entries(
    *,
    session: Session,
    organisation_id: int | None,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = 1000,
) -> Generator[Row[Any]]:
    """A chain's entries in order, streamed in batches (`since` inclusive, `until` exclusive)."""
    ensure_reachable(session, organisation_id)
    columns = [getattr(AuditEntry, name) for name in ENTRY_COLUMNS]
    statement = select(*columns).order_by(AuditEntry.sequence)
    if organisation_id is None:
        statement = statement.where(AuditEntry.organisation_id.is_(None))
    else:
        statement = statement.where(AuditEntry.organisation_id == organisation_id)
    if since is not None:
        statement = statement.where(AuditEntry.occurred_at >= since)
    if until is not None:
        statement = statement.where(AuditEntry.occurred_at < until)
    with acting_for(session, organisation_id):
        result = session.execute(statement.execution_options(yield_per=batch))
    try:
        yield from result
    finally:
        result.close()


class Problem(StrEnum):
    HASH_MISMATCH = "hash_mismatch"
    """The entry's fields no longer give its hash: it was changed after it was written."""
    PREV_HASH_MISMATCH = "prev_hash_mismatch"
    """The entry does not carry the hash of the entry before it."""
    GAP = "gap"
    """An entry is missing (the sequence jumps)."""
    HEAD_MISMATCH = "head_mismatch"
    """The chain ends elsewhere than its head says: the newest entries were removed or added."""


@dataclass(frozen=True)
class BrokenLink:
    sequence: int
    problem: Problem
    expected: str | None = None
    found: str | None = None


@dataclass(frozen=True)
class VerifyResult:
    organisation_id: int | None
    checked: int
    broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def chain_length(*, session: Session, organisation_id: int | None) -> int:
    """How many entries the chain's head says it has (for a progress bar)."""
    head = session.get(AuditChain, _chain_id(organisation_id))
    return head.last_sequence if head else 0


def _chain_id(organisation_id: int | None) -> int:
    return SYSTEM_CHAIN if organisation_id is None else organisation_id


def verify_chain(
    *,
    session: Session,
    organisation_id: int | None,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Recompute every hash of the chain in order; report the first broken link."""
    with closing(iter_entries(session=session, organisation_id=organisation_id)) as rows:
        walk = walk_chain(rows, progress)
    link = walk.broken
    if link is None:
        head = session.execute(
            select(AuditChain.last_sequence, AuditChain.last_hash).where(
                AuditChain.chain_id == _chain_id(organisation_id)
            )
        ).one_or_none()
        head_sequence, head_hash = head if head is not None else (0, GENESIS_HASH)
        if head_sequence != walk.last or head_hash != walk.last_hash:
            first = min(head_sequence, walk.last) + 1 if head_sequence != walk.last else walk.last
            link = BrokenLink(first, Problem.HEAD_MISMATCH, str(head_sequence), str(walk.last))
    if link is not None:
        log.warning("audit chain of organisation %s broken at entry %d: %s",
                    organisation_id, link.sequence, link.problem.value)  # fmt: skip
    return VerifyResult(organisation_id, walk.checked, link)


@dataclass
class ChainWalk:
    """How far a walk along a hash chain got: entries checked, the last good link, the break."""

    checked: int = 0
    last: int = 0
    last_hash: str = GENESIS_HASH
    broken: BrokenLink | None = None


def first_broken_link(
    links: Sequence[Any],
    digest: Callable[[Any], str],
    *,
    head_sequence: int,
    head_hash: str,
    genesis: str,
) -> int | None:
    """For a short per-record chain (a request's or an incident's timeline): None when every
    link follows the one before and the head points at the last; else the first sequence that
    does not. `digest` recomputes a link's hash from the link."""
    previous = genesis
    for expected, link in enumerate(links, start=1):
        if link.sequence != expected or link.prev_hash != previous or digest(link) != link.hash:
            return int(link.sequence)
        previous = link.hash
    if head_sequence != len(links) or head_hash != previous:
        return len(links) + 1
    return None


def walk_chain(
    rows: Iterator[Row[Any]],
    progress: Callable[[int], None] | None,
    digest: Callable[[Mapping[str, Any]], str] = entry_hash,
) -> ChainWalk:
    """Follow a chain (rows with `sequence`, `prev_hash`, `hash` and what `digest` hashes) from
    its first link until it ends or a link is broken. The audit trail and the consent ledger
    both walk their chains with it."""
    walk = ChainWalk()
    for row in rows:
        walk.checked += 1
        expected = walk.last + 1
        if row.sequence != expected:
            walk.broken = BrokenLink(expected, Problem.GAP, str(expected), str(row.sequence))
        elif row.prev_hash != walk.last_hash:
            walk.broken = BrokenLink(
                expected, Problem.PREV_HASH_MISMATCH, walk.last_hash, row.prev_hash
            )
        elif (actual := digest(row._asdict())) != row.hash:
            walk.broken = BrokenLink(expected, Problem.HASH_MISMATCH, actual, row.hash)
        if walk.broken is not None:
            break
        walk.last, walk.last_hash = expected, row.hash
        if progress is not None and walk.checked % PROGRESS_STEP == 0:
            progress(PROGRESS_STEP)
    if progress is not None and walk.checked % PROGRESS_STEP:
        progress(walk.checked % PROGRESS_STEP)
    return walk
