"""The DPIA workspace's tables: one assessment per organisation and high-risk purpose (Art. 34),
and the risks it weighs, each before and after its measures.

An assessment describes processing, not people: it holds no personal data. Who signed it off is
the console member's user id; their name is read from the account when shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from jagadata.db.base import Base, UTCDateTime
from jagadata.db.tenancy import OrgScoped
from jagadata.ropa.states import DpiaState

PURPOSE_MAX: Final = 64
LEVEL_MAX: Final = 8


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


_STATES: Final = _quoted(tuple(s.value for s in DpiaState))
_LEVELS: Final = _quoted(("low", "medium", "high"))


class DpiaAssessment(OrgScoped, Base):
    """The impact assessment of one purpose of the manifest, drafted, submitted, signed off."""

    __tablename__ = "dpia_assessment"
    __table_args__ = (
        UniqueConstraint("organisation_id", "purpose_id"),
        CheckConstraint(f"state IN ({_STATES})", name="state_known"),
        CheckConstraint(
            f"residual_level IS NULL OR residual_level IN ({_LEVELS})", name="residual_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose_id: Mapped[str] = mapped_column(String(PURPOSE_MAX))
    """The purpose's `id` in the manifest."""
    state: Mapped[str] = mapped_column(String(16))
    context: Mapped[str] = mapped_column(Text())
    """The processing in the assessor's words: its nature, scope, context and necessity."""
    residual_level: Mapped[str | None] = mapped_column(String(LEVEL_MAX))
    """The highest residual risk of the assessment's risks; None while it has none."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_off_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )

    risks: Mapped[list[DpiaRisk]] = relationship(
        back_populates="assessment",
        order_by="DpiaRisk.position",
        cascade="all, delete-orphan",
    )


class DpiaRisk(OrgScoped, Base):
    """One risk to the people concerned, its likelihood and severity (1-3) before and after the
    measures taken against it."""

    __tablename__ = "dpia_risk"
    __table_args__ = (
        UniqueConstraint("assessment_id", "position"),
        CheckConstraint("likelihood BETWEEN 1 AND 3", name="likelihood_range"),
        CheckConstraint("severity BETWEEN 1 AND 3", name="severity_range"),
        CheckConstraint("residual_likelihood BETWEEN 1 AND 3", name="residual_likelihood_range"),
        CheckConstraint("residual_severity BETWEEN 1 AND 3", name="residual_severity_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("dpia_assessment.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer())
    description: Mapped[str] = mapped_column(Text())
    likelihood: Mapped[int] = mapped_column(Integer())
    severity: Mapped[int] = mapped_column(Integer())
    measures: Mapped[str] = mapped_column(Text())
    residual_likelihood: Mapped[int] = mapped_column(Integer())
    residual_severity: Mapped[int] = mapped_column(Integer())

    assessment: Mapped[DpiaAssessment] = relationship(back_populates="risks")
