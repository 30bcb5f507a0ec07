"""Re-encrypt every encrypted column under the active key, in small committed batches.

Resumable: a value already under the active key is skipped, so an interrupted rotation simply
runs again. Works on the raw ciphertext through SQLAlchemy Core, so no ORM scope is involved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Column, Engine, MetaData, Table, Text, and_, func, literal, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.expression import type_coerce

from jagadata.crypto.keyring import PREFIX, Keyring
from jagadata.crypto.types import ENCRYPTED_TYPES

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class EncryptedColumns:
    table: Table
    columns: tuple[Column[object], ...]

    @property
    def name(self) -> str:
        return self.table.name


def encrypted_columns(metadata: MetaData) -> list[EncryptedColumns]:
    found = []
    for table in metadata.sorted_tables:
        columns = tuple(c for c in table.columns if isinstance(c.type, ENCRYPTED_TYPES))
        if columns:
            found.append(EncryptedColumns(table, columns))
    return found


def _raw(column: Column[object]) -> ColumnElement[str]:
    """The stored ciphertext: the column read as plain text, without decrypting."""
    return type_coerce(column, Text)


def _stale(target: EncryptedColumns, keyring: Keyring) -> ColumnElement[bool]:
    current = f"{PREFIX}:{keyring.active}:%"
    return or_(*(and_(_raw(c).is_not(None), ~_raw(c).like(current)) for c in target.columns))


def stale_count(engine: Engine, target: EncryptedColumns, keyring: Keyring) -> int:
    """How many rows still hold a value under a key other than the active one."""
    with engine.connect() as connection:
        query = select(func.count()).select_from(target.table).where(_stale(target, keyring))
        return int(connection.execute(query).scalar_one())


def reencrypt(
    engine: Engine,
    metadata: MetaData,
    keyring: Keyring,
    *,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Re-encrypt stale values table by table; returns the rows rewritten per table."""
    rewritten: dict[str, int] = {}
    for target in encrypted_columns(metadata):
        rewritten[target.name] = 0
        for count in _batches(engine, target, keyring, batch_size):
            rewritten[target.name] += count
            if progress:
                progress(target.name, count)
    return rewritten


def _batches(
    engine: Engine, target: EncryptedColumns, keyring: Keyring, batch_size: int
) -> Iterator[int]:
    keys = list(target.table.primary_key.columns)
    if not keys:
        raise ValueError(f"table {target.name} has no primary key; it cannot be re-encrypted")
    while True:
        with engine.begin() as connection:
            rows = connection.execute(
                select(*keys, *(_raw(c).label(f"raw_{c.name}") for c in target.columns))
                .where(_stale(target, keyring))
                .order_by(*keys)
                .limit(batch_size)
            ).all()
            for row in rows:
                values = {}
                for column in target.columns:
                    token = row._mapping[f"raw_{column.name}"]
                    if token is None or Keyring.key_id_of(token) == keyring.active:
                        continue
                    context = column.type.context  # type: ignore[attr-defined]
                    fresh = keyring.encrypt(
                        keyring.decrypt(token, context=context), context=context
                    )
                    values[column] = literal(fresh, Text)
                where = and_(*(key == row._mapping[key.name] for key in keys))
                connection.execute(sql_update(target.table).where(where).values(values))
        if not rows:
            return
        yield len(rows)
