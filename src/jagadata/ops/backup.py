"""`jagadata backup`: every table of jagadata's database, as one snapshot, into one portable file.

The tables are read in dependency order inside one read transaction (a consistent snapshot
while jagadata keeps running), a bounded batch of rows at a time, and written straight into the
zip, so memory stays flat whatever the size of the database. The keyring is not in the file.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, Select, Table, column, select, table

from jagadata.db.base import load_all_models
from jagadata.db.migrate import current_revision
from jagadata.ops.archive import (
    MANIFEST,
    BackupManifest,
    HashingWriter,
    TableEntry,
    encode_value,
    member_name,
    stored_type,
)

BATCH: Final = 1000
"""Rows fetched from the database at a time."""

Progress = Callable[[str, int], None]
"""Told the table being copied and how many more rows were written."""


def backup_tables() -> list[Table]:
    """Every table jagadata has, parents before the tables that refer to them."""
    return list(load_all_models().sorted_tables)


def copy_select(source: Table) -> Select[Any]:
    """A SELECT of the table's stored values (ciphertext kept as it is), in primary-key order."""
    copy = table(source.name, *(column(c.name, stored_type(c)) for c in source.columns))
    order = [copy.c[c.name] for c in source.primary_key.columns]
    return select(*copy.c).order_by(*order)


def write_backup(engine: Engine, path: Path, progress: Progress | None = None) -> BackupManifest:
    """Write the database behind `engine` to `path` (replaced only once the file is complete)."""
    revision = current_revision(engine) or ""
    manifest = BackupManifest(
        revision=revision,
        created_at=datetime.now(UTC).isoformat(),
        dialect=engine.dialect.name,
    )
    partial = path.with_name(f".{path.name}.partial")
    try:
        with (
            zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive,
            _snapshot(engine) as connection,
        ):
            for position, source in enumerate(backup_tables(), start=1):
                manifest.tables.append(_copy_table(connection, archive, position, source, progress))
            archive.writestr(_member(MANIFEST), manifest.to_json())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _member(name: str) -> zipfile.ZipInfo:
    """A compressed member dated now (zip dates are local wall-clock times)."""
    member = zipfile.ZipInfo(name, date_time=datetime.now().timetuple()[:6])
    member.compress_type = zipfile.ZIP_DEFLATED
    return member


def _snapshot(engine: Engine) -> Connection:
    """A connection whose reads all see the database at one moment."""
    if engine.dialect.name == "postgresql":
        return engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
    connection = engine.connect()
    if engine.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")
    return connection


def _copy_table(
    connection: Connection,
    archive: zipfile.ZipFile,
    position: int,
    source: Table,
    progress: Progress | None,
) -> TableEntry:
    name = member_name(position, source)
    names = [c.name for c in source.columns]
    with archive.open(_member(name), "w", force_zip64=True) as member:
        writer = HashingWriter(member)
        result = connection.execution_options(yield_per=BATCH).execute(copy_select(source))
        for rows in result.partitions():
            for row in rows:
                writer.write_row(
                    {key: encode_value(value) for key, value in zip(names, row, strict=True)}
                )
            if progress is not None:
                progress(source.name, len(rows))
    return TableEntry(source.name, name, writer.rows, names, writer.digest.hexdigest())
