"""Datastore connection secrets (encrypted) and the record of runs of the engine.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 00:49:04.890824
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "datastore_secret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_datastore_secret_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datastore_secret")),
        sa.UniqueConstraint(
            "organisation_id", "name", name=op.f("uq_datastore_secret_organisation_id_name")
        ),
    )
    with op.batch_alter_table("datastore_secret", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_datastore_secret_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "datastore_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.String(length=63), nullable=False),
        sa.Column("operation", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'prepared', 'done', 'failed')",
            name=op.f("ck_datastore_run_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_datastore_run_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rights_request.id"],
            name=op.f("fk_datastore_run_request_id_rights_request"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datastore_run")),
    )
    with op.batch_alter_table("datastore_run", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_datastore_run_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            "ix_datastore_run_task", ["organisation_id", "request_id", "system_id"], unique=False
        )



def downgrade() -> None:
    with op.batch_alter_table("datastore_run", schema=None) as batch_op:
        batch_op.drop_index("ix_datastore_run_task")
        batch_op.drop_index(batch_op.f("ix_datastore_run_organisation_id"))

    op.drop_table("datastore_run")
    with op.batch_alter_table("datastore_secret", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datastore_secret_organisation_id"))

    op.drop_table("datastore_secret")
