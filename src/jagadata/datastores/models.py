"""What jagadata keeps about the organisation's databases: the connection URLs (encrypted at
rest, never in the manifest) and the record of every run of the engine against them.

A run is written before the organisation's database is touched (`running`), again with its
report just before the change is committed there (`prepared`), and once more after (`done`).
If the process dies in between, the next attempt finds the run `prepared`, plans again, and —
when the plan finds nothing left to change — knows the commit happened and keeps the report
it prepared: no erasure is done twice, and none is reported without its evidence.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from jagadata.crypto import EncryptedText
from jagadata.db.base import Base, UTCDateTime
from jagadata.db.tenancy import OrgScoped


class RunStatus(StrEnum):
    RUNNING = "running"
    PREPARED = "prepared"
    DONE = "done"
    FAILED = "failed"


class DatastoreSecret(OrgScoped, Base):
    """The connection URL of one database system, encrypted at rest."""

    __tablename__ = "datastore_secret"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63))
    """The `connection.secret` name the manifest uses."""
    url: Mapped[str] = mapped_column(EncryptedText("datastore_secret.url"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DatastoreRun(OrgScoped, Base):
    """One run of the engine against one database: for a request's task, or by hand."""

    __tablename__ = "datastore_run"
    __table_args__ = (
        Index("ix_datastore_run_task", "organisation_id", "request_id", "system_id"),
        CheckConstraint("status IN ('running', 'prepared', 'done', 'failed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[str] = mapped_column(String(63))
    operation: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("rights_request.id", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Counts per table, reasons and legal sources: no personal data."""
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """While `running`, the run is another worker's until then; after, a new attempt takes it."""
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
