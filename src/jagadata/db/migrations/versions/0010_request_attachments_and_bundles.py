"""Files kept with a request (encrypted), and what the person downloads once.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 22:29:06.606477
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rights_request_bundle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_rights_request_bundle_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rights_request.id"],
            name=op.f("fk_rights_request_bundle_request_id_rights_request"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_request_bundle")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_rights_request_bundle_token_hash")),
    )
    with op.batch_alter_table("rights_request_bundle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rights_request_bundle_organisation_id"),
            ["organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_rights_request_bundle_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "rights_request_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('original', 'proof', 'export', 'response')",
            name=op.f("ck_rights_request_attachment_kind_known"),
        ),
        sa.CheckConstraint("size >= 0", name=op.f("ck_rights_request_attachment_size_positive")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_rights_request_attachment_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rights_request.id"],
            name=op.f("fk_rights_request_attachment_request_id_rights_request"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["rights_request_task.id"],
            name=op.f("fk_rights_request_attachment_task_id_rights_request_task"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_rights_request_attachment_uploaded_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_request_attachment")),
    )
    with op.batch_alter_table("rights_request_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rights_request_attachment_organisation_id"),
            ["organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_rights_request_attachment_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rights_request_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rights_request_attachment_request_id"))
        batch_op.drop_index(batch_op.f("ix_rights_request_attachment_organisation_id"))

    op.drop_table("rights_request_attachment")
    with op.batch_alter_table("rights_request_bundle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rights_request_bundle_request_id"))
        batch_op.drop_index(batch_op.f("ix_rights_request_bundle_organisation_id"))

    op.drop_table("rights_request_bundle")
