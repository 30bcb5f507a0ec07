"""The consent ledger's tables: append-only events hash-chained per organisation, the head of
each chain, the current state per person and purpose, the consent terms of each manifest
version, idempotent batches, erasable contacts and the receipts' signing keys."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column

from jagadata.crypto import EncryptedText
from jagadata.db.base import Base, UTCDateTime
from jagadata.db.tenancy import OrgScoped

SUBJECT_REF_MAX: Final = 70
PURPOSE_MAX: Final = 63
IDEMPOTENCY_KEY_MAX: Final = 128
RECEIPT_ID_MAX: Final = 32


class EventKind(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    RENEWED = "renewed"


class Channel(StrEnum):
    """Where a consent event was collected (the manifest's `consent.collected_via`)."""

    WEB_FORM = "web_form"
    COOKIE_BANNER = "cookie_banner"
    WHATSAPP = "whatsapp"
    EMAIL_DOUBLE_OPT_IN = "email_double_opt_in"
    PAPER = "paper"
    API = "api"


class Status(StrEnum):
    """Where a person stands for a purpose after their latest event (renewed counts as given)."""

    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


STATUS_OF: Final = {
    EventKind.GIVEN: Status.GIVEN,
    EventKind.RENEWED: Status.GIVEN,
    EventKind.REFUSED: Status.REFUSED,
    EventKind.WITHDRAWN: Status.WITHDRAWN,
    EventKind.EXPIRED: Status.EXPIRED,
}


def _quoted(values: type[StrEnum]) -> str:
    return ", ".join(f"'{value.value}'" for value in values)


class ConsentEvent(OrgScoped, Base):
    """One consent event, never changed once written: who (a keyed hash), which purpose, what
    they were shown (manifest version and the SHA-256 of the text, in their language), how,
    when and with what evidence. `hash` covers every field and `prev_hash` (see ledger.py)."""

    __tablename__ = "consent_event"
    __table_args__ = (
        UniqueConstraint("organisation_id", "sequence"),
        UniqueConstraint("organisation_id", "idempotency_key"),
        UniqueConstraint("receipt_id"),
        Index("ix_consent_event_subject", "organisation_id", "subject_ref", "sequence"),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint(f"kind IN ({_quoted(EventKind)})", name="kind_known"),
        CheckConstraint(f"channel IN ({_quoted(Channel)})", name="channel_known"),
        CheckConstraint("language IN ('id', 'en', 'fr')", name="language_known"),
        CheckConstraint(
            "actor_kind IN ('user', 'api_key', 'system', 'data_subject')", name="actor_kind_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))
    subject_ref: Mapped[str] = mapped_column(String(SUBJECT_REF_MAX))
    purpose: Mapped[str] = mapped_column(String(PURPOSE_MAX))
    manifest_version: Mapped[int]
    notice_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(5))
    channel: Mapped[str] = mapped_column(String(24))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str | None] = mapped_column(String(120))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    child: Mapped[bool] = mapped_column(Boolean())
    guardian_ref: Mapped[str | None] = mapped_column(String(SUBJECT_REF_MAX))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON())
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_MAX))
    receipt_id: Mapped[str | None] = mapped_column(String(RECEIPT_ID_MAX))
    receipt_kid: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ConsentChain(Base):
    """Where each organisation's ledger ends. A batch locks this row first, so concurrent writers
    never fork the chain; `verify` compares it with the last event, so removing the newest
    events is noticed too."""

    __tablename__ = "consent_chain"
    __table_args__ = (CheckConstraint("last_sequence >= 0", name="last_sequence_positive"),)

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), primary_key=True, autoincrement=False
    )
    last_sequence: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))


class ConsentState(OrgScoped, Base):
    """The latest event per person and purpose, kept in the event's transaction: a check is
    one lookup on the primary key. Derived from the ledger, so it may change; the ledger may not."""

    __tablename__ = "consent_state"
    __table_args__ = (CheckConstraint(f"status IN ({_quoted(Status)})", name="status_known"),)

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), primary_key=True
    )
    subject_ref: Mapped[str] = mapped_column(String(SUBJECT_REF_MAX), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(PURPOSE_MAX), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    sequence: Mapped[int]
    event_kind: Mapped[str] = mapped_column(String(10))
    event_hash: Mapped[str] = mapped_column(String(64))
    manifest_version: Mapped[int]
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConsentTerms(OrgScoped, Base):
    """What one manifest version says of one purpose, for checking and recording fast: whether
    it rests on consent, the SHA-256 of its consent text per language, how long consent lasts,
    and `renewal_from`: the oldest version whose consents still count (a material change of the
    purpose since then needs fresh consent, Art. 21(2))."""

    __tablename__ = "consent_terms"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), primary_key=True
    )
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    purpose: Mapped[str] = mapped_column(String(PURPOSE_MAX), primary_key=True)
    effective: Mapped[date] = mapped_column(Date())
    consent: Mapped[bool] = mapped_column(Boolean())
    renewal_from: Mapped[int]
    renew_after: Mapped[str | None] = mapped_column(String(16))
    notice_hashes: Mapped[dict[str, str]] = mapped_column(JSON())
    collected_via: Mapped[list[str]] = mapped_column(JSON())
    children_only: Mapped[bool] = mapped_column(Boolean())


class ConsentBatch(OrgScoped, Base):
    """A batch recorded under an `Idempotency-Key`: a retry with the same key and the same body
    returns these events instead of recording them again."""

    __tablename__ = "consent_batch"
    __table_args__ = (UniqueConstraint("organisation_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_MAX))
    fingerprint: Mapped[str] = mapped_column(String(64))
    sequences: Mapped[list[int]] = mapped_column(JSON())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsentContact(OrgScoped, Base):
    """How to reach a person about their consent (a receipt, a confirmation), kept encrypted
    and apart from the ledger so it can be erased while the ledger stays whole."""

    __tablename__ = "consent_contact"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="RESTRICT"), primary_key=True
    )
    subject_ref: Mapped[str] = mapped_column(String(SUBJECT_REF_MAX), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(EncryptedText("consent_contact.value"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SigningKey(OrgScoped, Base):
    """An organisation's Ed25519 key for receipts. The private half is encrypted at rest; a
    rotated key stops signing (`retired_at`) but stays published so old receipts verify."""

    __tablename__ = "consent_signing_key"
    __table_args__ = (UniqueConstraint("kid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(String(64))
    private_key: Mapped[str] = mapped_column(EncryptedText("consent_signing_key.private_key"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AppendOnly(Exception):
    """Consent events are evidence (Art. 24): they are never changed or deleted."""


@event.listens_for(ConsentEvent, "before_update")
@event.listens_for(ConsentEvent, "before_delete")
def _refuse_change(_mapper: Mapper[Any], _connection: object, _target: object) -> None:
    raise AppendOnly("consent events are append-only: record a new event instead")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is inspect(ConsentEvent):
        raise AppendOnly("consent events are append-only: record a new event instead")
