"""The consent ledger, its current state, receipts' signing keys.

The database itself refuses to change or delete a consent event (a trigger on SQLite and on
PostgreSQL), and a chain's head only ever moves forward. A later migration that rebuilds
`consent_event` or `consent_chain` in SQLite's batch mode must create the triggers again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_REFUSAL = "consent events are append-only"
HEAD_REFUSAL = "a consent chain only grows"

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_event
    BEGIN SELECT RAISE(ABORT, '{EVENT_REFUSAL}'); END""",
    f"""CREATE TRIGGER consent_event_no_delete BEFORE DELETE ON consent_event
    BEGIN SELECT RAISE(ABORT, '{EVENT_REFUSAL}'); END""",
    f"""CREATE TRIGGER consent_chain_forward_only BEFORE UPDATE ON consent_chain
    WHEN NEW.organisation_id != OLD.organisation_id OR NEW.last_sequence <= OLD.last_sequence
    BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSAL}'); END""",
    f"""CREATE TRIGGER consent_chain_no_delete BEFORE DELETE ON consent_chain
    BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSAL}'); END""",
)

POSTGRESQL_TRIGGERS = (
    f"""CREATE FUNCTION consent_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{EVENT_REFUSAL} (% refused)', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    """CREATE TRIGGER consent_event_append_only BEFORE UPDATE OR DELETE ON consent_event
    FOR EACH ROW EXECUTE FUNCTION consent_event_append_only()""",
    """CREATE TRIGGER consent_event_no_truncate BEFORE TRUNCATE ON consent_event
    FOR EACH STATEMENT EXECUTE FUNCTION consent_event_append_only()""",
    f"""CREATE FUNCTION consent_chain_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'UPDATE' OR NEW.organisation_id <> OLD.organisation_id
                OR NEW.last_sequence <= OLD.last_sequence THEN
            RAISE EXCEPTION '{HEAD_REFUSAL} (% refused)', TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER consent_chain_forward_only BEFORE UPDATE OR DELETE ON consent_chain
    FOR EACH ROW EXECUTE FUNCTION consent_chain_forward_only()""",
    """CREATE TRIGGER consent_chain_no_truncate BEFORE TRUNCATE ON consent_chain
    FOR EACH STATEMENT EXECUTE FUNCTION consent_chain_forward_only()""",
)

KINDS = "'given', 'refused', 'withdrawn', 'expired', 'renewed'"
CHANNELS = "'web_form', 'cookie_banner', 'whatsapp', 'email_double_opt_in', 'paper', 'api'"


def _organisation(table: str) -> sa.Column[int]:
    return sa.Column(
        "organisation_id",
        sa.Integer(),
        sa.ForeignKey(
            "organisation.id",
            name=op.f(f"fk_{table}_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        nullable=False,
        autoincrement=False,
    )


def upgrade() -> None:
    op.create_table(
        "consent_chain",
        _organisation("consent_chain"),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "last_sequence >= 0", name=op.f("ck_consent_chain_last_sequence_positive")
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_consent_chain")),
    )
    op.create_table(
        "consent_event",
        sa.Column("id", sa.Integer(), nullable=False),
        _organisation("consent_event"),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject_ref", sa.String(length=70), nullable=False),
        sa.Column("purpose", sa.String(length=63), nullable=False),
        sa.Column("manifest_version", sa.Integer(), nullable=False),
        sa.Column("notice_hash", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_label", sa.String(length=120), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("child", sa.Boolean(), nullable=False),
        sa.Column("guardian_ref", sa.String(length=70), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("receipt_id", sa.String(length=32), nullable=True),
        sa.Column("receipt_kid", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("sequence >= 1", name=op.f("ck_consent_event_sequence_positive")),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_consent_event_kind_known")),
        sa.CheckConstraint(f"channel IN ({CHANNELS})", name=op.f("ck_consent_event_channel_known")),
        sa.CheckConstraint(
            "language IN ('id', 'en', 'fr')", name=op.f("ck_consent_event_language_known")
        ),
        sa.CheckConstraint(
            "actor_kind IN ('user', 'api_key', 'system', 'data_subject')",
            name=op.f("ck_consent_event_actor_kind_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_event")),
        sa.UniqueConstraint(
            "organisation_id", "sequence", name=op.f("uq_consent_event_organisation_id_sequence")
        ),
        sa.UniqueConstraint(
            "organisation_id",
            "idempotency_key",
            name=op.f("uq_consent_event_organisation_id_idempotency_key"),
        ),
        sa.UniqueConstraint("receipt_id", name=op.f("uq_consent_event_receipt_id")),
    )
    op.create_index(op.f("ix_consent_event_organisation_id"), "consent_event", ["organisation_id"])
    op.create_index(
        "ix_consent_event_subject",
        "consent_event",
        ["organisation_id", "subject_ref", "sequence"],
    )
    op.create_table(
        "consent_state",
        _organisation("consent_state"),
        sa.Column("subject_ref", sa.String(length=70), nullable=False),
        sa.Column("purpose", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("event_kind", sa.String(length=10), nullable=False),
        sa.Column("event_hash", sa.String(length=64), nullable=False),
        sa.Column("manifest_version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('given', 'refused', 'withdrawn', 'expired')",
            name=op.f("ck_consent_state_status_known"),
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "subject_ref", "purpose", name=op.f("pk_consent_state")
        ),
    )
    op.create_table(
        "consent_terms",
        _organisation("consent_terms"),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("purpose", sa.String(length=63), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("renewal_from", sa.Integer(), nullable=False),
        sa.Column("renew_after", sa.String(length=16), nullable=True),
        sa.Column("notice_hashes", sa.JSON(), nullable=False),
        sa.Column("collected_via", sa.JSON(), nullable=False),
        sa.Column("children_only", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organisation_id", "version", "purpose", name=op.f("pk_consent_terms")
        ),
    )
    op.create_table(
        "consent_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        _organisation("consent_batch"),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("sequences", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_batch")),
        sa.UniqueConstraint(
            "organisation_id",
            "idempotency_key",
            name=op.f("uq_consent_batch_organisation_id_idempotency_key"),
        ),
    )
    op.create_index(op.f("ix_consent_batch_organisation_id"), "consent_batch", ["organisation_id"])
    op.create_table(
        "consent_contact",
        _organisation("consent_contact"),
        sa.Column("subject_ref", sa.String(length=70), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "organisation_id", "subject_ref", "kind", name=op.f("pk_consent_contact")
        ),
    )
    op.create_table(
        "consent_signing_key",
        sa.Column("id", sa.Integer(), nullable=False),
        _organisation("consent_signing_key"),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_signing_key")),
        sa.UniqueConstraint("kid", name=op.f("uq_consent_signing_key_kid")),
    )
    op.create_index(
        op.f("ix_consent_signing_key_organisation_id"),
        "consent_signing_key",
        ["organisation_id"],
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRESQL_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    for table in (
        "consent_signing_key",
        "consent_contact",
        "consent_batch",
        "consent_terms",
        "consent_state",
        "consent_event",
        "consent_chain",
    ):
        op.drop_table(table)  # its indexes and triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS consent_event_append_only()")
        op.execute("DROP FUNCTION IF EXISTS consent_chain_forward_only()")
