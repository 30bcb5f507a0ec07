"""The audit trail's tables: append-only entries, hash-chained per organisation, and the head
of each chain, which serialises writers and remembers where the chain ends."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column

from jagadata.db.base import Base, UTCDateTime
from jagadata.db.tenancy import OrgScoped

GENESIS_HASH: Final = "0" * 64
"""The `prev_hash` of the first entry of every chain."""

SYSTEM_CHAIN: Final = 0
"""Chain id of the entries that belong to no organisation (sign-ins, system events)."""

USER_AGENT_MAX: Final = 300
ACTION_MAX: Final = 80


class ActorKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    SYSTEM = "system"
    DATA_SUBJECT = "data_subject"


class AuditEntry(OrgScoped, Base):
    """Who did what, when, from where, on which record or person: never changed once written.

    `hash` is the SHA-256 of the entry's canonical JSON including `prev_hash`, the hash of the
    entry before it in the same chain (see `jagadata.audit.service.entry_hash`).
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        UniqueConstraint("organisation_id", "sequence"),
        Index(
            "uq_audit_entry_system_sequence",
            "sequence",
            unique=True,
            sqlite_where=text("organisation_id IS NULL"),
            postgresql_where=text("organisation_id IS NULL"),
        ),
        Index("ix_audit_entry_organisation_id_occurred_at", "organisation_id", "occurred_at"),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint(
            "actor_kind IN ('user', 'api_key', 'system', 'data_subject')", name="actor_kind_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(  # type: ignore[assignment]
        ForeignKey("organisation.id", ondelete="RESTRICT")
    )
    sequence: Mapped[int]
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str | None] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(ACTION_MAX))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    subject_ref: Mapped[str | None] = mapped_column(String(128), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_MAX))
    details: Mapped[dict[str, Any]] = mapped_column(JSON())
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChain(Base):
    """Where each chain ends. Appending locks this row first, so two writers never fork a chain;
    `verify` compares it with the last entry, so deleting the newest entries is noticed too."""

    __tablename__ = "audit_chain"
    __table_args__ = (CheckConstraint("last_sequence >= 0", name="last_sequence_positive"),)

    chain_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_sequence: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))


class AppendOnly(Exception):
    """Audit entries are evidence: they are never changed or deleted."""


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_change(_mapper: Mapper[Any], _connection: object, _target: object) -> None:
    raise AppendOnly("audit entries are append-only: record a new entry instead")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is inspect(AuditEntry):
        raise AppendOnly("audit entries are append-only: record a new entry instead")
