"""What the database knows about periodic jobs: the last minute each one ran for, and how it went.

Every consumer's scheduler starts the periodic jobs, so with several workers a job would run
once per worker; claiming its minute here first makes it run once per minute slot in all.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jagadata.db.base import Base, UTCDateTime


class RunStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PeriodicJobState(Base):
    """One row per periodic job: its latest run (for the once-per-slot claim and the console)."""

    __tablename__ = "periodic_job"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'done', 'failed')", name="status_known"),
        CheckConstraint("runs >= 0", name="runs_not_negative"),
    )

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_slot: Mapped[datetime] = mapped_column(UTCDateTime())
    """The minute the latest run was for; a run for the same minute elsewhere is skipped."""
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text())
    """The exception's class only: messages may carry personal data."""
    runs: Mapped[int] = mapped_column(default=0)
