"""Retention runs: one record per sweep and its progress per table, so a sweep resumes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retention_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.String(length=63), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'done', 'failed')",
            name=op.f("ck_retention_run_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_retention_run_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_run")),
    )
    with op.batch_alter_table("retention_run", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_retention_run_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            "ix_retention_run_recent", ["organisation_id", "started_at"], unique=False
        )

    op.create_table(
        "retention_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.String(length=63), nullable=False),
        sa.Column("table_name", sa.String(length=63), nullable=False),
        sa.Column("rule_id", sa.String(length=63), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_key", sa.Text(), nullable=True),
        sa.Column("carried", sa.Text(), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_retention_progress_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["retention_run.id"],
            name=op.f("fk_retention_progress_run_id_retention_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_progress")),
    )
    with op.batch_alter_table("retention_progress", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_retention_progress_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            "ix_retention_progress_run", ["run_id", "system_id", "table_name"], unique=False
        )
        batch_op.create_index(
            "ix_retention_progress_table",
            ["organisation_id", "system_id", "table_name"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("retention_progress", schema=None) as batch_op:
        batch_op.drop_index("ix_retention_progress_table")
        batch_op.drop_index("ix_retention_progress_run")
        batch_op.drop_index(batch_op.f("ix_retention_progress_organisation_id"))
    op.drop_table("retention_progress")
    with op.batch_alter_table("retention_run", schema=None) as batch_op:
        batch_op.drop_index("ix_retention_run_recent")
        batch_op.drop_index(batch_op.f("ix_retention_run_organisation_id"))
    op.drop_table("retention_run")
