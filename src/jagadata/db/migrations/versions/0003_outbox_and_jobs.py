"""The transactional outbox and job state.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "periodic_job",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("last_slot", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.CheckConstraint("runs >= 0", name=op.f("ck_periodic_job_runs_not_negative")),
        sa.CheckConstraint(
            "status IN ('running', 'done', 'failed')", name=op.f("ck_periodic_job_status_known")
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_periodic_job")),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_reference", sa.String(length=255), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_message_attempts_not_negative")),
        sa.CheckConstraint(
            "channel IN ('email', 'whatsapp', 'webhook')",
            name=op.f("ck_outbox_message_channel_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'dead')",
            name=op.f("ck_outbox_message_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_outbox_message_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_message_id")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_message_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            "ix_outbox_message_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_outbox_message_organisation_id"))
    op.drop_table("outbox_message")
    op.drop_table("periodic_job")
