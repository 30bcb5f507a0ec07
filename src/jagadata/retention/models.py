"""What jagadata keeps about retention sweeps: one record per run and its progress per table.

A run is written (with the moment its periods are measured against) before any organisation
database is touched; each batch's progress is committed right after the batch commits in
that database. A run that dies is resumed from its progress with the same moment, so it ends
exactly where an uninterrupted run would; a finished run is evidence and is never run again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jagadata.crypto import EncryptedJSON
from jagadata.db.base import Base, UTCDateTime
from jagadata.db.tenancy import OrgScoped


class SweepStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RetentionRun(OrgScoped, Base):
    """One sweep of an organisation's mapped databases (or of one system)."""

    __tablename__ = "retention_run"
    __table_args__ = (
        Index("ix_retention_run_recent", "organisation_id", "started_at"),
        CheckConstraint("status IN ('running', 'done', 'failed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[str | None] = mapped_column(String(63))
    """Only this system was swept; every mapped system when empty."""
    trigger: Mapped[str] = mapped_column(String(16))
    """`cli` or `job`."""
    status: Mapped[str] = mapped_column(String(16))
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime())
    """The moment every period is measured against; kept so a resumed run decides alike."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """While running, the run is its process's until then; another may take it over after."""
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The evidence: per table the rule, legal source, SQL and counts. No personal data."""
    error: Mapped[str | None] = mapped_column(Text)


class RetentionProgress(OrgScoped, Base):
    """How far a run has gone in one table."""

    __tablename__ = "retention_progress"
    __table_args__ = (
        Index("ix_retention_progress_run", "run_id", "system_id", "table_name"),
        Index("ix_retention_progress_table", "organisation_id", "system_id", "table_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("retention_run.id", ondelete="CASCADE"))
    system_id: Mapped[str] = mapped_column(String(63))
    table_name: Mapped[str] = mapped_column(String(63))
    rule_id: Mapped[str] = mapped_column(String(63))
    action: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[datetime] = mapped_column(UTCDateTime())
    """Rows whose start event is before this moment are past their period."""
    last_key: Mapped[list[Any] | None] = mapped_column(EncryptedJSON("retention_progress.last_key"))
    """The key of the last row handled; the next batch starts after it."""
    carried: Mapped[list[Any] | None] = mapped_column(EncryptedJSON("retention_progress.carried"))
    """Keys skipped for an open request: the next run looks at them again."""
    done: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    finished: Mapped[bool] = mapped_column(default=False)
