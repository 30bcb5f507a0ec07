"""The append-only, hash-chained audit trail; organisation indexes for scoped queries.

The database itself refuses to change or delete an audit entry (a trigger on SQLite and on
PostgreSQL), and a chain's head only ever moves forward by one entry. A later migration that
rebuilds `audit_entry` or `audit_chain` in SQLite's batch mode must create the triggers again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTRY_REFUSAL = "audit entries are append-only"
HEAD_REFUSAL = "an audit chain only grows, one entry at a time"

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
    BEGIN SELECT RAISE(ABORT, '{ENTRY_REFUSAL}'); END""",
    f"""CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
    BEGIN SELECT RAISE(ABORT, '{ENTRY_REFUSAL}'); END""",
    f"""CREATE TRIGGER audit_chain_forward_only BEFORE UPDATE ON audit_chain
    WHEN NEW.chain_id != OLD.chain_id OR NEW.last_sequence != OLD.last_sequence + 1
    BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSAL}'); END""",
    f"""CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
    BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSAL}'); END""",
)

POSTGRESQL_TRIGGERS = (
    f"""CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{ENTRY_REFUSAL} (% refused)', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    """CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()""",
    """CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()""",
    f"""CREATE FUNCTION audit_chain_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'UPDATE' OR NEW.chain_id <> OLD.chain_id
                OR NEW.last_sequence <> OLD.last_sequence + 1 THEN
            RAISE EXCEPTION '{HEAD_REFUSAL} (% refused)', TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER audit_chain_forward_only BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_chain_forward_only()""",
    """CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_forward_only()""",
)


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("chain_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "last_sequence >= 0", name=op.f("ck_audit_chain_last_sequence_positive")
        ),
        sa.PrimaryKeyConstraint("chain_id", name=op.f("pk_audit_chain")),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_label", sa.String(length=120), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("subject_ref", sa.String(length=128), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "actor_kind IN ('user', 'api_key', 'system', 'data_subject')",
            name=op.f("ck_audit_entry_actor_kind_known"),
        ),
        sa.CheckConstraint("sequence >= 1", name=op.f("ck_audit_entry_sequence_positive")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_audit_entry_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint(
            "organisation_id", "sequence", name=op.f("uq_audit_entry_organisation_id_sequence")
        ),
    )
    op.create_index(
        "ix_audit_entry_organisation_id_occurred_at",
        "audit_entry",
        ["organisation_id", "occurred_at"],
    )
    op.create_index(op.f("ix_audit_entry_subject_ref"), "audit_entry", ["subject_ref"])
    op.create_index(
        "uq_audit_entry_system_sequence",
        "audit_entry",
        ["sequence"],
        unique=True,
        sqlite_where=sa.text("organisation_id IS NULL"),
        postgresql_where=sa.text("organisation_id IS NULL"),
    )
    op.create_index(
        op.f("ix_manifest_version_organisation_id"), "manifest_version", ["organisation_id"]
    )
    op.create_index(
        op.f("ix_policy_version_organisation_id"), "policy_version", ["organisation_id"]
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRESQL_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    op.drop_index(op.f("ix_policy_version_organisation_id"), table_name="policy_version")
    op.drop_index(op.f("ix_manifest_version_organisation_id"), table_name="manifest_version")
    op.drop_table("audit_entry")  # its indexes and triggers go with it
    op.drop_table("audit_chain")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
        op.execute("DROP FUNCTION IF EXISTS audit_chain_forward_only()")
