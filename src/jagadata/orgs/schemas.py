"""What the HTTP API returns about organisations and their published policy."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OrganisationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str = Field(description="The organisation's address: /o/{slug}/.")
    name: str = Field(description="The name the public knows.")
    created_at: datetime


class ManifestVersionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int = Field(ge=1, description="1 for the first published manifest, then 2, 3, ...")
    effective: date = Field(description="Date the policy of this version takes effect.")
    content_hash: str = Field(description="SHA-256 of the manifest's YAML text.")
    created_at: datetime


class VersionHistoryPublic(BaseModel):
    organisation: str = Field(description="The organisation's slug.")
    current: int | None = Field(description="Number of the version in force today, if any.")
    versions: list[ManifestVersionPublic] = Field(description="Newest first.")


class PolicyVersionPublic(BaseModel):
    organisation: str = Field(description="The organisation's slug.")
    version: int = Field(ge=1, description="The manifest version the policy was rendered from.")
    lang: Literal["id", "en", "fr"]
    format: Literal["html", "md"]
    effective: date
    published_at: datetime
    content_hash: str = Field(description="SHA-256 of `document` (UTF-8), to verify a download.")
    document: str = Field(description="The standalone policy: a whole HTML page, or Markdown.")
    fragment: str = Field(
        description="The policy to embed in another page: an HTML <article>, or Markdown."
    )
    prevailing_lang: Literal["id"] = Field(
        default="id", description="Where translations differ, the Indonesian text prevails."
    )


class HealthPublic(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str = Field(description="'ok', or why the database cannot be used.")
