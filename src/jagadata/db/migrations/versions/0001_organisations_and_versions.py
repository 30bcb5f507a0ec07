"""Organisations, manifest versions and published policy versions.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("slug", name=op.f("uq_organisation_slug")),
    )
    op.create_table(
        "manifest_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("number >= 1", name=op.f("ck_manifest_version_number_positive")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_manifest_version_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manifest_version")),
        sa.UniqueConstraint(
            "organisation_id",
            "content_hash",
            name=op.f("uq_manifest_version_organisation_id_content_hash"),
        ),
        sa.UniqueConstraint(
            "organisation_id", "id", name=op.f("uq_manifest_version_organisation_id_id")
        ),
        sa.UniqueConstraint(
            "organisation_id", "number", name=op.f("uq_manifest_version_organisation_id_number")
        ),
    )
    op.create_table(
        "policy_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("manifest_version_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("format", sa.String(length=4), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("format IN ('html', 'md')", name=op.f("ck_policy_version_format_known")),
        sa.CheckConstraint("lang IN ('id', 'en', 'fr')", name=op.f("ck_policy_version_lang_known")),
        sa.ForeignKeyConstraint(
            ["organisation_id", "manifest_version_id"],
            ["manifest_version.organisation_id", "manifest_version.id"],
            name="fk_policy_version_manifest_version",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_policy_version_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_version")),
        sa.UniqueConstraint(
            "manifest_version_id",
            "lang",
            "format",
            name=op.f("uq_policy_version_manifest_version_id_lang_format"),
        ),
    )


def downgrade() -> None:
    op.drop_table("policy_version")
    op.drop_table("manifest_version")
    op.drop_table("organisation")
