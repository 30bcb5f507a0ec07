"""The DPIA workspace: one impact assessment per organisation and high-risk purpose (Art. 34),
with its risks before and after their measures, and the data protection officer's sign-off.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _organisation(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["organisation_id"],
        ["organisation.id"],
        name=op.f(f"fk_{table}_organisation_id_organisation"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "dpia_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("residual_level", sa.String(length=8), nullable=True),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.Column("submitted_at", moment, nullable=True),
        sa.Column("signed_off_at", moment, nullable=True),
        sa.Column("signed_off_by", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state IN ('draft', 'submitted', 'signed_off')",
            name=op.f("ck_dpia_assessment_state_known"),
        ),
        sa.CheckConstraint(
            "residual_level IS NULL OR residual_level IN ('low', 'medium', 'high')",
            name=op.f("ck_dpia_assessment_residual_known"),
        ),
        sa.ForeignKeyConstraint(
            ["signed_off_by"],
            ["user_account.id"],
            name=op.f("fk_dpia_assessment_signed_off_by_user_account"),
            ondelete="RESTRICT",
        ),
        _organisation("dpia_assessment"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dpia_assessment")),
        sa.UniqueConstraint(
            "organisation_id",
            "purpose_id",
            name=op.f("uq_dpia_assessment_organisation_id_purpose_id"),
        ),
    )
    with op.batch_alter_table("dpia_assessment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dpia_assessment_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "dpia_risk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("likelihood", sa.Integer(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("residual_likelihood", sa.Integer(), nullable=False),
        sa.Column("residual_severity", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "likelihood BETWEEN 1 AND 3", name=op.f("ck_dpia_risk_likelihood_range")
        ),
        sa.CheckConstraint("severity BETWEEN 1 AND 3", name=op.f("ck_dpia_risk_severity_range")),
        sa.CheckConstraint(
            "residual_likelihood BETWEEN 1 AND 3",
            name=op.f("ck_dpia_risk_residual_likelihood_range"),
        ),
        sa.CheckConstraint(
            "residual_severity BETWEEN 1 AND 3",
            name=op.f("ck_dpia_risk_residual_severity_range"),
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["dpia_assessment.id"],
            name=op.f("fk_dpia_risk_assessment_id_dpia_assessment"),
            ondelete="CASCADE",
        ),
        _organisation("dpia_risk"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dpia_risk")),
        sa.UniqueConstraint(
            "assessment_id", "position", name=op.f("uq_dpia_risk_assessment_id_position")
        ),
    )
    with op.batch_alter_table("dpia_risk", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dpia_risk_assessment_id"), ["assessment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dpia_risk_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dpia_risk", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dpia_risk_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_dpia_risk_assessment_id"))
    op.drop_table("dpia_risk")
    with op.batch_alter_table("dpia_assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dpia_assessment_organisation_id"))
    op.drop_table("dpia_assessment")
