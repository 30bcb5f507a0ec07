"""The SQL connector: PostgreSQL (psycopg 3), MySQL/MariaDB (PyMySQL) and SQLite through
SQLAlchemy Core.

Every identifier is quoted and every value is bound: a manifest names tables and columns, it
can never inject SQL. One connection per run; reads happen in one consistent snapshot
(REPEATABLE READ on PostgreSQL and InnoDB, one read transaction on SQLite), writes in one
transaction that commits at the end or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.sql.elements import quoted_name

from jagadata.datastores.errors import (
    ConnectionFailed,
    DatastoreError,
    MappingError,
    driver_reason,
)
from jagadata.datastores.masking import ColumnShape, shape_of
from jagadata.i18n import N_
from jagadata.manifest.mapping import TableMap

Key = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Condition:
    """`columns` equal one of `values` (tuples when several columns); `lower` compares
    lower(trim(column)) instead, for emails stored in any case."""

    columns: tuple[str, ...]
    values: Sequence[Any]
    lower: bool = False


PROBE: Final = 10_000
"""Rows one statement reads in a single round trip before it switches to a streaming cursor."""

BAD_URL: Final = N_("the database address cannot be read: {reason}")
BAD_URL_HINT: Final = N_(
    "write it as postgresql+psycopg://user@host/db, mysql+pymysql://user@host/db or "
    "sqlite:///path/file.db"
)
UNREACHABLE_DB: Final = N_("cannot connect to the database {database}: {reason}")
UNREACHABLE_DB_HINT: Final = N_(
    "check that the server runs, the address and the credentials; jagadata changed nothing"
)
UNKNOWN_DB_TABLE: Final = N_("the table does not exist in the database")
UNKNOWN_DB_COLUMN: Final = N_("the column '{column}' does not exist in the database")
UNKNOWN_DB_HINT: Final = N_(
    "correct the mapping to the database's spelling (`jagadata datastore scan` lists drift)"
)
STATEMENT_FAILED: Final = N_("the database refused a statement on '{table}': {reason}")
BATCH_FAILED: Final = N_("the database refused one of the changes: {reason}")
STATEMENT_FAILED_HINT: Final = N_(
    "nothing was changed in this datastore (the transaction was rolled back); a table that "
    "is not mapped may still point at these rows: map it"
)

_DIALECTS: Final = {
    "postgresql": postgresql.dialect,
    "mysql": mysql.dialect,
    "mariadb": mysql.dialect,
    "sqlite": sqlite.dialect,
}


def _q(name: str) -> quoted_name:
    return quoted_name(name, quote=True)


def sa_table(table: TableMap, columns: Sequence[str], schema: str | None = None) -> sa.TableClause:
    """A lightweight table construct (no reflection) with every identifier quoted."""
    return sa.table(
        _q(table.name), *(sa.column(_q(c)) for c in dict.fromkeys(columns)), schema=schema
    )


def match_condition(
    t: sa.TableClause, condition: Condition, *, arrays: bool = False, name: str | None = None
) -> sa.ColumnElement[bool]:
    """`column IN (…)`, or on PostgreSQL (`arrays`) `column = ANY(:array)`: one bound array
    whatever the number of values, so the statement's text stays the same and the server
    plans it once (psycopg prepares a statement it sees repeatedly)."""
    cols = [t.c[name] for name in condition.columns]
    values = list(condition.values)
    target: sa.ColumnElement[Any] = (
        sa.func.lower(sa.func.trim(cols[0])) if condition.lower else cols[0]
    )
    if len(cols) == 1 or condition.lower:
        if arrays:
            return target == sa.any_(sa.bindparam(name, values))
        return target.in_(values)
    return sa.tuple_(*cols).in_([tuple(v) for v in values])


def select_statement(
    table: TableMap,
    conditions: Sequence[Condition],
    schema: str | None = None,
    *,
    arrays: bool = False,
) -> sa.Select[Any]:
    names = [n for condition in conditions for n in condition.columns]
    t = sa_table(table, names, schema)
    return (
        sa.select(sa.literal_column("*"))
        .select_from(t)
        .where(
            sa.or_(
                *(
                    match_condition(t, c, arrays=arrays, name=f"v{i}" if arrays else None)
                    for i, c in enumerate(conditions)
                )
            )
        )
    )


def key_condition(
    t: sa.TableClause,
    key: Sequence[str],
    keys: Sequence[Key],
    *,
    arrays: bool = False,
    name: str | None = None,
) -> sa.ColumnElement[bool]:
    condition = Condition(tuple(key), [k[0] for k in keys] if len(key) == 1 else keys)
    return match_condition(t, condition, arrays=arrays, name=name)


def render(statement: sa.ClauseElement, dialect: str) -> str:
    compiled = statement.compile(
        dialect=_DIALECTS[dialect](), compile_kwargs={"render_postcompile": True}
    )
    return str(compiled)


class SqlConnector:
    """One connection to one organisation database for the length of a run."""

    def __init__(self, engine: Engine, *, schema: str | None = None) -> None:
        self.engine = engine
        self.schema = schema
        self.dialect = engine.dialect.name
        self.arrays = self.dialect == "postgresql"
        self._compiled: dict[Any, tuple[str, dict[str, Any]]] = {}
        self._connection: Connection | None = None
        self._shapes: dict[str, dict[str, ColumnShape]] = {}

    # -- lifetime ------------------------------------------------------------------------

    def open(self) -> None:
        try:
            self._connection = self.engine.connect()
        except SQLAlchemyError as error:
            raise ConnectionFailed(
                UNREACHABLE_DB,
                hint=UNREACHABLE_DB_HINT,
                database=self.engine.url.render_as_string(hide_password=True),
                reason=driver_reason(error),
            ) from None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()

    @property
    def connection(self) -> Connection:
        assert self._connection is not None, "open() first"
        return self._connection

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One consistent snapshot for every read inside."""
        with self._transaction(write=False):
            yield

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._transaction(write=True):
            yield

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[None]:
        connection = self.connection
        if connection.in_transaction():
            connection.rollback()
        if self.dialect in ("postgresql", "mysql", "mariadb"):
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        if self.dialect == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")
            return
        with connection.begin():
            if self.dialect in ("mysql", "mariadb") and not write:
                connection.exec_driver_sql("SELECT 1")  # the snapshot starts at the first read
            yield

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Statements inside are sent without waiting for each answer (PostgreSQL's pipeline),
        in order; a refusal surfaces when the block ends. Row counts inside are not known."""
        if not self.arrays:
            yield
            return
        raw = self.connection.connection.dbapi_connection
        assert raw is not None
        try:
            with raw.pipeline():
                yield
        except self.engine.dialect.loaded_dbapi.Error as error:
            raise DatastoreError(
                BATCH_FAILED, hint=STATEMENT_FAILED_HINT, reason=driver_reason(error)
            ) from None

    @contextmanager
    def _cursor(self, table: TableMap) -> Iterator[Any]:
        """A driver cursor on the run's connection; a refusal becomes one DatastoreError."""
        cursor = self.connection.connection.cursor()
        try:
            yield cursor
        except self.engine.dialect.loaded_dbapi.Error as error:
            raise _refused(table, error) from None
        finally:
            cursor.close()

    # -- schema --------------------------------------------------------------------------

    def shapes(self, table: TableMap) -> dict[str, ColumnShape]:
        """Each column's type, length and nullability, read once per run."""
        if table.name not in self._shapes:
            inspector = sa.inspect(self.connection)
            try:
                columns = inspector.get_columns(table.name, schema=self.schema)
            except sa.exc.NoSuchTableError:
                columns = []
            self._shapes[table.name] = {
                c["name"]: shape_of(c["type"], bool(c.get("nullable", True))) for c in columns
            }
        return self._shapes[table.name]

    def check(self, table: TableMap, names: Sequence[str], where: str) -> None:
        """A MappingError unless the table and every named column exist."""
        shapes = self.shapes(table)
        if not shapes:
            raise MappingError(UNKNOWN_DB_TABLE, where=where, hint=UNKNOWN_DB_HINT)
        for name in names:
            if name not in shapes:
                raise MappingError(
                    UNKNOWN_DB_COLUMN, where=where, hint=UNKNOWN_DB_HINT, column=name
                )

    # -- reading -------------------------------------------------------------------------

    def find(
        self, table: TableMap, conditions: Sequence[Condition], *, chunk: int
    ) -> Iterator[tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
        """The rows matching any condition, in chunks of at most `chunk` rows.

        One round trip reads up to PROBE rows; only a result larger than that (a person with
        a great many rows) is read again through a server-side cursor, chunk by chunk, so
        memory stays bounded without paying a cursor's round trips on every statement."""
        if self.arrays and all(len(c.columns) == 1 or c.lower for c in conditions):
            columns, rows = self._probe_driver(table, conditions)
        else:
            statement = select_statement(table, conditions, self.schema)
            result = self._execute(table, statement.limit(PROBE + 1))
            columns = tuple(result.keys())
            rows = [tuple(row) for row in result]
        if len(rows) <= PROBE:
            for start in range(0, len(rows), chunk):
                yield columns, rows[start : start + chunk]
            return
        del rows
        statement = select_statement(table, conditions, self.schema, arrays=self.arrays)
        result = self._execute(
            table, statement, options={"stream_results": True, "yield_per": chunk}
        )
        for partition in result.partitions():
            yield columns, [tuple(row) for row in partition]

    def _probe_driver(
        self, table: TableMap, conditions: Sequence[Condition]
    ) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        """The probe on PostgreSQL, straight through the driver: the statement's text depends
        only on the table and the columns compared (values travel as arrays), so it is
        compiled once per shape and the server prepares it once; SQLAlchemy's per-statement
        work is the largest cost of a query that returns a handful of rows."""
        shape = (table.name, tuple((c.columns, c.lower) for c in conditions))
        compiled = self._compiled.get(shape)
        if compiled is None:
            statement = select_statement(table, conditions, self.schema, arrays=True)
            done = statement.limit(PROBE + 1).compile(dialect=self.engine.dialect)
            compiled = self._compiled[shape] = (str(done), dict(done.params))
        sql, fixed = compiled
        params = {**fixed, **{f"v{i}": list(c.values) for i, c in enumerate(conditions)}}
        with self._cursor(table) as cursor:
            cursor.execute(sql, params)
            columns = tuple(d[0] for d in cursor.description)
            return columns, [tuple(row) for row in cursor.fetchall()]

    def _driver(
        self,
        table: TableMap,
        shape: Any,
        build: Callable[[], sa.Executable],
        params: Mapping[str, Any],
    ) -> int:
        """Run a statement of a known shape straight through the driver (PostgreSQL): compiled
        once per shape, its values bound as arrays; the number of rows it changed."""
        compiled = self._compiled.get(shape)
        if compiled is None:
            done = build().compile(dialect=self.engine.dialect)  # type: ignore[attr-defined]
            compiled = self._compiled[shape] = (str(done), dict(done.params))
        sql, fixed = compiled
        with self._cursor(table) as cursor:
            cursor.execute(sql, {**fixed, **params})
            return int(cursor.rowcount)

    # -- writing -------------------------------------------------------------------------

    def update_rows(self, table: TableMap, keys: Sequence[Key], values: Mapping[str, Any]) -> int:
        """The same values into every row of `keys`."""
        names = tuple(values)

        def build() -> sa.Update:
            t = sa_table(table, [*table.key, *names], self.schema)
            return (
                sa.update(t)
                .where(key_condition(t, table.key, [(None,)], arrays=True, name="keys"))
                .values({n: sa.bindparam(f"set_{n}") for n in names})
            )

        if self.arrays and len(table.key) == 1:
            params = {"keys": [k[0] for k in keys], **{f"set_{n}": values[n] for n in names}}
            return self._driver(table, ("update", table.name, names), build, params)
        t = sa_table(table, [*table.key, *values], self.schema)
        statement = sa.update(t).where(key_condition(t, table.key, keys)).values(dict(values))
        return int(self._execute(table, statement).rowcount)

    def update_each(self, table: TableMap, changes: Sequence[tuple[Key, Mapping[str, Any]]]) -> int:
        """Per-row values (pseudonyms), grouped by the set of columns changed."""
        done = 0
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for key, values in changes:
            params = {f"v_{name}": value for name, value in values.items()}
            params.update({f"k_{name}": part for name, part in zip(table.key, key, strict=True)})
            groups.setdefault(tuple(values), []).append(params)
        for names, rows in groups.items():
            t = sa_table(table, [*table.key, *names], self.schema)
            statement = (
                sa.update(t)
                .where(sa.and_(*(t.c[k] == sa.bindparam(f"k_{k}") for k in table.key)))
                .values({name: sa.bindparam(f"v_{name}") for name in names})
            )
            if self.arrays:
                self._driver_many(table, ("update_each", table.name, names), statement, rows)
            else:
                self._execute(table, statement, rows)
            done += len(rows)
        return done

    def _driver_many(
        self,
        table: TableMap,
        shape: Any,
        statement: sa.Update,
        rows: Sequence[Mapping[str, Any]],
    ) -> None:
        """One statement for many rows through the driver (psycopg pipelines them)."""
        compiled = self._compiled.get(shape)
        if compiled is None:
            done = statement.compile(dialect=self.engine.dialect)
            compiled = self._compiled[shape] = (str(done), {})
        with self._cursor(table) as cursor:
            cursor.executemany(compiled[0], rows)

    def delete_rows(self, table: TableMap, keys: Sequence[Key]) -> int:
        def build() -> sa.Delete:
            t = sa_table(table, table.key, self.schema)
            return sa.delete(t).where(
                key_condition(t, table.key, [(None,)], arrays=True, name="keys")
            )

        if self.arrays and len(table.key) == 1:
            params = {"keys": [k[0] for k in keys]}
            return self._driver(table, ("delete", table.name), build, params)
        t = sa_table(table, table.key, self.schema)
        return int(
            self._execute(table, sa.delete(t).where(key_condition(t, table.key, keys))).rowcount
        )

    def unlink(
        self,
        table: TableMap,
        columns: Sequence[str],
        values: Sequence[Key],
        keep: Sequence[Key],
    ) -> int:
        """Set `columns` to null where they hold one of `values`, except in rows `keep`."""
        t = sa_table(table, [*table.key, *columns], self.schema)
        condition = match_condition(
            t, Condition(tuple(columns), [v[0] for v in values] if len(columns) == 1 else values)
        )
        if keep:
            condition = sa.and_(condition, sa.not_(key_condition(t, table.key, keep)))
        statement = sa.update(t).where(condition).values({c: None for c in columns})
        return int(self._execute(table, statement).rowcount)

    def insert_missing(
        self, name: str, rows: Sequence[Mapping[str, Any]], unique: Sequence[str]
    ) -> int:
        """Insert the rows of a side table that are not there yet (by `unique` columns)."""
        if not rows:
            return 0
        t = sa.table(_q(name), *(sa.column(_q(c)) for c in rows[0]), schema=self.schema)
        present = {
            tuple(row)
            for row in self.connection.execute(
                sa.select(*(t.c[c] for c in unique)).where(
                    sa.tuple_(*(t.c[c] for c in unique)).in_(
                        [tuple(r[c] for c in unique) for r in rows]
                    )
                )
            )
        }
        missing = [dict(r) for r in rows if tuple(r[c] for c in unique) not in present]
        if missing:
            self.connection.execute(sa.insert(t), missing)
        return len(missing)

    def _execute(
        self,
        table: TableMap,
        statement: sa.Executable,
        params: Any = None,
        *,
        options: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return self.connection.execute(
                statement, params or None, execution_options=dict(options or {})
            )
        except DBAPIError as error:
            raise _refused(table, error) from None


def _refused(table: TableMap, error: BaseException) -> DatastoreError:
    return DatastoreError(
        STATEMENT_FAILED,
        where=table.name,
        hint=STATEMENT_FAILED_HINT,
        table=table.name,
        reason=driver_reason(error),
    )


def now() -> datetime:
    return datetime.now(UTC)


def row_key_text(key: Key) -> str:
    """A row's key as the restriction side table stores it: JSON text."""
    return json.dumps([str(part) if not isinstance(part, int) else part for part in key])


def engine_for(url: str) -> Engine:
    """An engine for an organisation database, with SQLite set to honour foreign keys and
    to leave transaction control to the connector."""
    try:
        parsed: URL = make_url(url)
        engine = sa.create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise ConnectionFailed(BAD_URL, hint=BAD_URL_HINT, reason=driver_reason(error)) from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_connect)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the connector emits BEGIN/COMMIT itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


@contextmanager
def connect(url: str, *, schema: str | None = None) -> Iterator[SqlConnector]:
    """An open connector to the database at `url`; closed when the block ends."""
    connector = SqlConnector(engine_for(url), schema=schema)
    connector.open()
    try:
        yield connector
    finally:
        connector.close()
