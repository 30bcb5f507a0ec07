"""Recorded requests (Art. 14): the request, its hash-chained timeline, verification codes,
pauses and the tasks staff follow.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 22:01:48.140601
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "request timelines are append-only"
SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER rights_request_event_no_update BEFORE UPDATE ON rights_request_event
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
    f"""CREATE TRIGGER rights_request_event_no_delete BEFORE DELETE ON rights_request_event
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
)
POSTGRESQL_TRIGGERS = (
    f"""CREATE FUNCTION rights_request_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSAL} (% refused)', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    """CREATE TRIGGER rights_request_event_append_only
    BEFORE UPDATE OR DELETE ON rights_request_event
    FOR EACH ROW EXECUTE FUNCTION rights_request_event_append_only()""",
    """CREATE TRIGGER rights_request_event_no_truncate BEFORE TRUNCATE ON rights_request_event
    FOR EACH STATEMENT EXECUTE FUNCTION rights_request_event_append_only()""",
)


def upgrade() -> None:
    op.create_table(
        "rights_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=24), nullable=False),
        sa.Column("access_hash", sa.String(length=64), nullable=True),
        sa.Column("right", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("manifest_version", sa.Integer(), nullable=True),
        sa.Column("identifier", sa.String(length=63), nullable=False),
        sa.Column("identifier_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_ref", sa.String(length=70), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("on_behalf", sa.String(length=16), nullable=True),
        sa.Column("authority", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verification_method", sa.String(length=24), nullable=True),
        sa.Column("clock_start", sa.String(length=16), nullable=False),
        sa.Column("clock_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("zone", sa.String(length=32), nullable=False),
        sa.Column("acknowledge_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline", sa.JSON(), nullable=False),
        sa.Column("paused_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders_sent", sa.JSON(), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("approval_required", sa.Boolean(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("refusal_ground", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("callback_url", sa.String(length=500), nullable=True),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "channel IN ('web', 'api', 'staff')", name=op.f("ck_rights_request_channel_known")
        ),
        sa.CheckConstraint(
            "clock_start IN ('receipt', 'verification')",
            name=op.f("ck_rights_request_clock_start_known"),
        ),
        sa.CheckConstraint(
            "language IN ('id', 'en', 'fr')", name=op.f("ck_rights_request_language_known")
        ),
        sa.CheckConstraint(
            (
                "status IN ('received', 'verified', 'in_progress', 'awaiting_approval', "
                "'fulfilled', 'refused', 'withdrawn', 'closed_unverified')"
            ),
            name=op.f("ck_rights_request_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_rights_request_approved_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user_account.id"],
            name=op.f("fk_rights_request_assignee_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_rights_request_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_request")),
        sa.UniqueConstraint(
            "organisation_id",
            "external_id",
            name=op.f("uq_rights_request_organisation_id_external_id"),
        ),
        sa.UniqueConstraint("reference", name=op.f("uq_rights_request_reference")),
    )
    with op.batch_alter_table("rights_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rights_request_open_due", ["organisation_id", "status", "due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rights_request_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            "ix_rights_request_subject", ["organisation_id", "subject_ref"], unique=False
        )

    op.create_table(
        "rights_request_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_label", sa.String(length=120), nullable=True),
        sa.Column("status_after", sa.String(length=24), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "actor_kind IN ('user', 'api_key', 'system', 'data_subject')",
            name=op.f("ck_rights_request_event_actor_kind_known"),
        ),
        sa.CheckConstraint(
            (
                "kind IN ('received', 'code_sent', 'code_failed', 'verified', 'acknowledged',"
                " 'assigned', 'started', 'paused', 'resumed', 'task_done', 'task_reopened', "
                "'note', 'approval_asked', 'approved', 'rejected', 'fulfilled', 'refused', "
                "'withdrawn', 'closed_unverified', 'clock_start_changed', 'reminded', "
                "'escalated', 'message_sent')"
            ),
            name=op.f("ck_rights_request_event_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_rights_request_event_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rights_request.id"],
            name=op.f("fk_rights_request_event_request_id_rights_request"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_request_event")),
        sa.UniqueConstraint(
            "request_id", "sequence", name=op.f("uq_rights_request_event_request_id_sequence")
        ),
    )
    with op.batch_alter_table("rights_request_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rights_request_event_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rights_request_event_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "rights_request_pause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_rights_request_pause_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rights_request.id"],
            name=op.f("fk_rights_request_pause_request_id_rights_request"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_request_pause")),
    )
    with op.batch_alter_table("rights_request_pause", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rights_request_pause_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rights_request_pause_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "rights_request_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=63), nullable=False),
        sa.Column("system_name", sa.String(length=200), nullable=False),
        sa.Column("instructions", sa.JSON(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["done_by_id"],
            ["user_account.id"],
            name=op.f("fk_rights_request_task_done_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_rights_request_task_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rights_request.id"],
            name=op.f("fk_rights_request_task_request_id_rights_request"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_request_task")),
        sa.UniqueConstraint(
            "request_id", "position", name=op.f("uq_rights_request_task_request_id_position")
        ),
    )
    with op.batch_alter_table("rights_request_task", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rights_request_task_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rights_request_task_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "rights_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("link_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_rights_verification_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rights_request.id"],
            name=op.f("fk_rights_verification_request_id_rights_request"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_verification")),
        sa.UniqueConstraint("link_hash", name=op.f("uq_rights_verification_link_hash")),
    )
    with op.batch_alter_table("rights_verification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rights_verification_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rights_verification_request_id"), ["request_id"], unique=False
        )

    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(
        dialect, ()
    ):
        op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table("rights_verification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rights_verification_request_id"))
        batch_op.drop_index(batch_op.f("ix_rights_verification_organisation_id"))

    op.drop_table("rights_verification")
    with op.batch_alter_table("rights_request_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rights_request_task_request_id"))
        batch_op.drop_index(batch_op.f("ix_rights_request_task_organisation_id"))

    op.drop_table("rights_request_task")
    with op.batch_alter_table("rights_request_pause", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rights_request_pause_request_id"))
        batch_op.drop_index(batch_op.f("ix_rights_request_pause_organisation_id"))

    op.drop_table("rights_request_pause")
    with op.batch_alter_table("rights_request_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rights_request_event_request_id"))
        batch_op.drop_index(batch_op.f("ix_rights_request_event_organisation_id"))

    op.drop_table("rights_request_event")
    with op.batch_alter_table("rights_request", schema=None) as batch_op:
        batch_op.drop_index("ix_rights_request_subject")
        batch_op.drop_index(batch_op.f("ix_rights_request_organisation_id"))
        batch_op.drop_index("ix_rights_request_open_due")

    op.drop_table("rights_request")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS rights_request_event_append_only()")
