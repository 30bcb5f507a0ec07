"""The backup file: a zip of one JSON-lines member per table and a manifest that names the
migration revision, each table's row count and each member's SHA-256.

Values are written as the database stores them: encrypted columns stay ciphertext (the keyring
is never in a backup), instants are UTC ISO 8601, dates ISO, JSON as JSON. Any database jagadata
runs on can read the file back, whichever one wrote it.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Final

from sqlalchemy import JSON, Column, Date, DateTime, Table
from sqlalchemy.types import TypeEngine

from jagadata.crypto.types import EncryptedJSON, EncryptedText
from jagadata.db.base import UTCDateTime
from jagadata.i18n import N_

FORMAT: Final = "jagadata-backup/1"
MANIFEST: Final = "manifest.json"
CHUNK: Final = 1 << 16


class BackupUnreadable(Exception):
    """The file is not a jagadata backup, or a member does not match its recorded hash."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message.format(**values))
        self.message = message
        self.values = values


@dataclass(frozen=True)
class TableEntry:
    """One table in the backup: its member, row count, columns and the member's SHA-256."""

    name: str
    member: str
    rows: int
    columns: list[str]
    sha256: str


@dataclass
class BackupManifest:
    revision: str
    created_at: str
    dialect: str
    tables: list[TableEntry] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "revision": self.revision,
                "created_at": self.created_at,
                "dialect": self.dialect,
                "keyring_included": False,
                "tables": [entry.__dict__ for entry in self.tables],
            },
            indent=2,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> BackupManifest:
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise BackupUnreadable(
                N_("it has no jagadata backup manifest ({format})"), format=FORMAT
            )
        return cls(
            revision=str(document["revision"]),
            created_at=str(document["created_at"]),
            dialect=str(document["dialect"]),
            tables=[TableEntry(**entry) for entry in document["tables"]],
        )

    @property
    def total_rows(self) -> int:
        return sum(entry.rows for entry in self.tables)


def stored_type(column: Column[Any]) -> TypeEngine[Any]:
    """The type a column is copied as: encrypted columns as their ciphertext text, others as
    declared (UTC instants and JSON keep their conversions, so every database reads them alike)."""
    kind = column.type
    if isinstance(kind, EncryptedText | EncryptedJSON):
        impl = kind.impl
        return impl() if isinstance(impl, type) else impl
    if isinstance(kind, JSON) and column.nullable:
        return JSON(none_as_null=True)
    return kind


def encode_value(value: Any) -> Any:
    """A value as JSON can hold it (instants in UTC, dates ISO)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def decode_value(column: Column[Any], value: Any) -> Any:
    """The value back in the Python type the column's (copy) type binds."""
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, UTCDateTime | DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    return value


class HashingWriter:
    """Writes lines into a zip member and keeps the member's SHA-256 as it goes."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.rows = 0

    def write_row(self, row: dict[str, Any]) -> None:
        line = (json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        self.digest.update(line)
        self.target.write(line)
        self.rows += 1


def member_name(position: int, table: Table) -> str:
    return f"tables/{position:03d}-{table.name}.jsonl"


def read_manifest(archive: zipfile.ZipFile) -> BackupManifest:
    try:
        text = archive.read(MANIFEST).decode("utf-8")
    except KeyError:
        raise BackupUnreadable(N_("it has no {member}"), member=MANIFEST) from None
    try:
        return BackupManifest.from_json(text)
    except (ValueError, KeyError, TypeError):
        raise BackupUnreadable(N_("its {member} cannot be read"), member=MANIFEST) from None


def open_archive(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise BackupUnreadable(
            N_("it cannot be opened as a zip file ({reason})"), reason=error.__class__.__name__
        ) from None


def check_members(archive: zipfile.ZipFile, manifest: BackupManifest) -> None:
    """Recompute every member's SHA-256 and row count; raise on the first that differs."""
    for entry in manifest.tables:
        digest, rows = hashlib.sha256(), 0
        try:
            with archive.open(entry.member) as member:
                while chunk := member.read(CHUNK):
                    digest.update(chunk)
                    rows += chunk.count(b"\n")
        except KeyError:
            raise BackupUnreadable(
                N_("the member {member} is missing"), member=entry.member
            ) from None
        except (zipfile.BadZipFile, OSError):
            raise BackupUnreadable(
                N_("the member {member} is damaged"), member=entry.member
            ) from None
        if digest.hexdigest() != entry.sha256 or rows != entry.rows:
            raise BackupUnreadable(
                N_(
                    "the member {member} does not match the SHA-256 recorded in the manifest: "
                    "it was changed after the backup was made"
                ),
                member=entry.member,
            )


def iter_rows(archive: zipfile.ZipFile, entry: TableEntry) -> Generator[dict[str, Any]]:
    """A member's rows, one at a time."""
    with archive.open(entry.member) as member:
        for line in member:
            yield json.loads(line)
