"""The breach register: incidents, their hash-chained timelines and the people affected.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _organisation(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["organisation_id"],
        ["organisation.id"],
        name=op.f(f"fk_{table}_organisation_id_organisation"),
        ondelete="RESTRICT",
    )


def _incident(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["incident_id"],
        ["breach_incident.id"],
        name=op.f(f"fk_{table}_incident_id_breach_incident"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "breach_incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("discovered_at", moment, nullable=False),
        sa.Column("occurred_at", moment, nullable=True),
        sa.Column("systems", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counted_from", sa.String(length=16), nullable=False),
        sa.Column("due_at", moment, nullable=False),
        sa.Column("deadline", sa.JSON(), nullable=False),
        sa.Column("public_interest", sa.Text(), nullable=True),
        sa.Column("affected", sa.JSON(), nullable=True),
        sa.Column("reminders_sent", sa.JSON(), nullable=False),
        sa.Column("escalated_at", moment, nullable=True),
        sa.Column("subjects_notified_at", moment, nullable=True),
        sa.Column("authority_notified_at", moment, nullable=True),
        sa.Column("public_notified_at", moment, nullable=True),
        sa.Column("closed_at", moment, nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "counted_from IN ('discovery', 'occurrence')",
            name=op.f("ck_breach_incident_counted_from_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'notified', 'closed')",
            name=op.f("ck_breach_incident_status_known"),
        ),
        _organisation("breach_incident"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_incident")),
        sa.UniqueConstraint("reference", name=op.f("uq_breach_incident_reference")),
    )
    with op.batch_alter_table("breach_incident", schema=None) as batch_op:
        batch_op.create_index(
            "ix_breach_incident_open_due", ["organisation_id", "status", "due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_breach_incident_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "breach_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("at", moment, nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_label", sa.String(length=120), nullable=True),
        sa.Column("status_after", sa.String(length=16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "actor_kind IN ('user', 'api_key', 'system', 'data_subject')",
            name=op.f("ck_breach_event_actor_kind_known"),
        ),
        sa.CheckConstraint(
            "kind IN ('recorded', 'updated', 'assessed', 'subjects_notified', "
            "'authority_notified', 'public_notified', 'reminded', 'escalated', 'closed')",
            name=op.f("ck_breach_event_kind_known"),
        ),
        _incident("breach_event"),
        _organisation("breach_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_event")),
        sa.UniqueConstraint(
            "incident_id", "sequence", name=op.f("uq_breach_event_incident_id_sequence")
        ),
    )
    with op.batch_alter_table("breach_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_breach_event_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_breach_event_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "breach_subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("person_ref", sa.String(length=70), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("systems", sa.JSON(), nullable=False),
        sa.Column("child", sa.Boolean(), nullable=False),
        sa.Column("specific", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notified_at", moment, nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('drafted', 'queued', 'sent', 'failed', 'no_contact')",
            name=op.f("ck_breach_subject_status_known"),
        ),
        _incident("breach_subject"),
        _organisation("breach_subject"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_subject")),
        sa.UniqueConstraint(
            "incident_id", "person_ref", name=op.f("uq_breach_subject_incident_id_person_ref")
        ),
    )
    with op.batch_alter_table("breach_subject", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_breach_subject_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_breach_subject_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade() -> None:
    for table, indexes in (
        ("breach_subject", ("ix_breach_subject_organisation_id", "ix_breach_subject_incident_id")),
        ("breach_event", ("ix_breach_event_organisation_id", "ix_breach_event_incident_id")),
        (
            "breach_incident",
            ("ix_breach_incident_organisation_id", "ix_breach_incident_open_due"),
        ),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for index in indexes:
                batch_op.drop_index(index)
        op.drop_table(table)
