"""`jagadata restore`: a backup file into an empty database at the same migration revision.

Every member is checked against its SHA-256 before anything is written; the rows then go in,
parents first, in one transaction (a failure leaves the database empty), and each PostgreSQL
sequence is moved past the ids restored. Append-only tables accept these inserts: their
triggers refuse only changes and deletions.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from itertools import islice
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, Table, column, func, insert, inspect, select, table, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError

from jagadata.crypto import KeyringError
from jagadata.crypto.types import EncryptedJSON, EncryptedText
from jagadata.datastores.errors import driver_reason
from jagadata.db.migrate import head_revision, upgrade
from jagadata.i18n import N_
from jagadata.ops.archive import (
    BackupManifest,
    BackupUnreadable,
    TableEntry,
    check_members,
    decode_value,
    iter_rows,
    open_archive,
    read_manifest,
    stored_type,
)
from jagadata.ops.backup import backup_tables

BATCH: Final = 1000
"""Rows inserted per statement."""
_NO_DIALECT: Final = sqlite.dialect()
"""Decryption does not depend on the database; the type API asks for a dialect all the same."""


class RestoreRefused(Exception):
    """The target database or the backup does not allow a restore; nothing was written."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message.format(**values))
        self.message = message
        self.values = values


def read_backup(path: Path) -> tuple[zipfile.ZipFile, BackupManifest]:
    """The opened backup and its manifest, every member checked against its SHA-256, the
    revision and the tables against this jagadata's."""
    archive = open_archive(path)
    try:
        manifest = read_manifest(archive)
        check_members(archive, manifest)
        _check_revision(manifest)
        _check_keyring(archive, manifest)
    except (BackupUnreadable, RestoreRefused):
        archive.close()
        raise
    return archive, manifest


def _check_revision(manifest: BackupManifest) -> None:
    head = head_revision()
    if manifest.revision != head:
        raise RestoreRefused(
            N_(
                "the backup was made at migration revision {backup}, this jagadata is at "
                "{head}; restore it with the jagadata version that made it, then upgrade"
            ),
            backup=manifest.revision,
            head=head,
        )


def _check_keyring(archive: zipfile.ZipFile, manifest: BackupManifest) -> None:
    """Refuse a backup whose encrypted values this process's keyring cannot read (the first row
    of each table with encrypted columns is tried): restored, it would be unreadable."""
    for entry, target in _tables_of(manifest):
        encrypted = _encrypted_columns(target)
        first = _first_row(archive, entry) if encrypted else None
        if first is None:
            continue
        for name, kind in encrypted.items():
            try:
                kind.process_result_value(first.get(name), _NO_DIALECT)
            except KeyringError as error:
                raise RestoreRefused(
                    N_(
                        "this keyring cannot read the encrypted values of the table {table} "
                        "({reason}); set JAGADATA_KEY_FILE to the keyring kept with the backup"
                    ),
                    table=target.name,
                    reason=error,
                ) from None


def _first_row(archive: zipfile.ZipFile, entry: TableEntry) -> dict[str, Any] | None:
    with closing(iter_rows(archive, entry)) as rows:
        return next(rows, None)


def _encrypted_columns(target: Table) -> dict[str, EncryptedText | EncryptedJSON]:
    found: dict[str, EncryptedText | EncryptedJSON] = {}
    for column_ in target.columns:
        if isinstance(column_.type, EncryptedText | EncryptedJSON):
            found[column_.name] = column_.type
    return found


def restore_checked(
    engine: Engine,
    archive: zipfile.ZipFile,
    manifest: BackupManifest,
    progress: Callable[[str, int], None] | None = None,
) -> None:
    """Migrate the target, refuse it unless empty, and copy every row of a checked backup in."""
    tables = _tables_of(manifest)
    upgrade(engine)
    with engine.begin() as connection:
        _refuse_unless_empty(connection)
        for entry, target in tables:
            _insert_rows(connection, archive, entry, target, progress)
        if connection.dialect.name == "postgresql":
            _move_sequences(connection)


def _tables_of(manifest: BackupManifest) -> list[tuple[TableEntry, Table]]:
    """Each table of the backup with this jagadata's table; every table must be there."""
    known = {t.name: t for t in backup_tables()}
    pairs = []
    for entry in manifest.tables:
        target = known.get(entry.name)
        unknown = [name for name in entry.columns if target is None or name not in target.c]
        if target is None or unknown:
            raise RestoreRefused(
                N_(
                    "the backup's table {table} does not match this jagadata's tables "
                    "(unknown: {unknown})"
                ),
                table=entry.name,
                unknown=", ".join(unknown) or entry.name,
            )
        pairs.append((entry, target))
    missing = sorted(known.keys() - {entry.name for entry in manifest.tables})
    if missing:
        raise RestoreRefused(
            N_("the backup lacks tables this revision has ({tables}): it is incomplete"),
            tables=", ".join(missing),
        )
    return pairs


def _refuse_unless_empty(connection: Connection) -> None:
    for target in backup_tables():
        rows = connection.scalar(select(func.count()).select_from(target))
        if rows:
            raise RestoreRefused(
                N_(
                    "the database is not empty: the table {table} has {rows} row(s); restore into "
                    "a new, empty database"
                ),
                table=target.name,
                rows=rows,
            )


def _insert_rows(
    connection: Connection,
    archive: zipfile.ZipFile,
    entry: TableEntry,
    target: Table,
    progress: Callable[[str, int], None] | None,
) -> None:
    columns = [target.c[name] for name in entry.columns]
    copy = table(target.name, *(column(c.name, stored_type(c)) for c in columns))
    rows = (
        {c.name: decode_value(c, row.get(c.name)) for c in columns}
        for row in iter_rows(archive, entry)
    )
    for batch in _batches(rows):
        try:
            connection.execute(insert(copy), batch)
        except DBAPIError as error:
            raise RestoreRefused(
                N_("the database refused the rows of the table {table} ({reason})"),
                table=target.name,
                reason=driver_reason(error),
            ) from None
        if progress is not None:
            progress(entry.name, len(batch))


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    while batch := list(islice(rows, BATCH)):
        yield batch


def _move_sequences(connection: Connection) -> None:
    """Set each serial column's sequence to the largest id restored, so new rows get new ids."""
    inspector = inspect(connection)
    for target in backup_tables():
        serial = target.autoincrement_column
        if serial is None or not inspector.has_table(target.name):
            continue
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE((SELECT MAX("{serial.name}") FROM "{target.name}"), 0) + 1, false)'
            ),
            {"table": target.name, "column": serial.name},
        )
