"""Organisations (controllers) and the immutable versions of their manifest and published policy."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final, Literal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from jagadata.db.base import Base, UTCDateTime
from jagadata.db.tenancy import OrgScoped

PolicyFormat = Literal["html", "md"]
POLICY_FORMATS: Final[tuple[PolicyFormat, ...]] = ("html", "md")
POLICY_LANGUAGES: Final = ("id", "en", "fr")


class Organisation(Base):
    """A controller (Pengendali Data Pribadi); every other row in jagadata belongs to one."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    manifest_versions: Mapped[list[ManifestVersion]] = relationship(
        back_populates="organisation", order_by="ManifestVersion.number"
    )


class ManifestVersion(OrgScoped, Base):
    """One published manifest, numbered 1..n per organisation; never changed once written."""

    __tablename__ = "manifest_version"
    __table_args__ = (
        UniqueConstraint("organisation_id", "number"),
        UniqueConstraint("organisation_id", "content_hash"),
        UniqueConstraint("organisation_id", "id"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    yaml_text: Mapped[str] = mapped_column(Text())
    effective: Mapped[date] = mapped_column(Date())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship(back_populates="manifest_versions")
    policies: Mapped[list[PolicyVersion]] = relationship(
        back_populates="manifest_version", overlaps="organisation"
    )


class PolicyVersion(OrgScoped, Base):
    """The policy rendered from one manifest version in one language and format.

    `content` is what the privacy centre embeds (an HTML fragment, or the Markdown);
    `document` is the standalone file offered for download, and `content_hash` is its SHA-256.
    """

    __tablename__ = "policy_version"
    __table_args__ = (
        UniqueConstraint("manifest_version_id", "lang", "format"),
        ForeignKeyConstraint(
            ["organisation_id", "manifest_version_id"],
            ["manifest_version.organisation_id", "manifest_version.id"],
            name="fk_policy_version_manifest_version",
            ondelete="RESTRICT",
        ),
        CheckConstraint("format IN ('html', 'md')", name="format_known"),
        CheckConstraint("lang IN ('id', 'en', 'fr')", name="lang_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_version_id: Mapped[int]
    lang: Mapped[str] = mapped_column(String(5))
    format: Mapped[str] = mapped_column(String(4))
    content: Mapped[str] = mapped_column(Text())
    document: Mapped[str] = mapped_column(Text())
    content_hash: Mapped[str] = mapped_column(String(64))
    effective: Mapped[date] = mapped_column(Date())
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())

    manifest_version: Mapped[ManifestVersion] = relationship(
        back_populates="policies", overlaps="organisation"
    )


class ImmutableVersion(Exception):
    """A published version was about to be changed; publish a new version instead."""


@event.listens_for(ManifestVersion, "before_update")
@event.listens_for(PolicyVersion, "before_update")
def _refuse_update(_mapper: Mapper[Any], _connection: object, target: object) -> None:
    raise ImmutableVersion(f"{type(target).__name__} is immutable once published")
