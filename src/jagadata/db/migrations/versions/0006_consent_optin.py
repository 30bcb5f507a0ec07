"""Pending opt-ins (email double opt-in, WhatsApp), the signed links sent to people (confirm,
withdraw; only their SHA-256 is kept) and the WhatsApp messages already handled.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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
    )


def upgrade() -> None:
    op.create_table(
        "consent_optin",
        sa.Column("id", sa.Integer(), nullable=False),
        _organisation("consent_optin"),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("subject_ref", sa.String(length=70), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("manifest_version", sa.Integer(), nullable=False),
        sa.Column("notice_hashes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("request_evidence", sa.JSON(), nullable=False),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('email', 'whatsapp')", name=op.f("ck_consent_optin_channel_known")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'cancelled')",
            name=op.f("ck_consent_optin_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_optin")),
    )
    op.create_index(op.f("ix_consent_optin_organisation_id"), "consent_optin", ["organisation_id"])
    op.create_index("ix_consent_optin_subject", "consent_optin", ["subject_ref", "status"])
    op.create_table(
        "consent_link",
        sa.Column("id", sa.Integer(), nullable=False),
        _organisation("consent_link"),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column(
            "optin_id",
            sa.Integer(),
            sa.ForeignKey(
                "consent_optin.id",
                name=op.f("fk_consent_link_optin_id_consent_optin"),
                ondelete="CASCADE",
            ),
            nullable=True,
        ),
        sa.Column("subject_ref", sa.String(length=70), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('confirm', 'withdraw')", name=op.f("ck_consent_link_kind_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_consent_link_token_hash")),
    )
    op.create_index(op.f("ix_consent_link_organisation_id"), "consent_link", ["organisation_id"])
    op.create_table(
        "whatsapp_inbound",
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_whatsapp_inbound")),
    )


def downgrade() -> None:
    op.drop_table("whatsapp_inbound")
    op.drop_index(op.f("ix_consent_link_organisation_id"), table_name="consent_link")
    op.drop_table("consent_link")
    op.drop_index("ix_consent_optin_subject", table_name="consent_optin")
    op.drop_index(op.f("ix_consent_optin_organisation_id"), table_name="consent_optin")
    op.drop_table("consent_optin")
