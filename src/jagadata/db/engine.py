"""Engines and sessions for jagadata's own database: SQLite in the data dir, or PostgreSQL."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_S = 5


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened; `url` never contains the password."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


def safe_url(url: str | URL) -> str:
    """The URL as a person may read it: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<invalid database URL>"


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's directory is created on first use."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise DatabaseUnavailable(safe_url(url), "not a database URL") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _create_sqlite_directory(parsed)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        _write_locks[engine] = threading.Lock()
        for name in ("commit", "rollback"):
            event.listen(engine, name, _release_write_lock)
        event.listen(engine.pool, "checkin", _release_pooled_write_lock)
        event.listen(engine.pool, "reset", _release_reset_write_lock)
        return engine
    connect_args: dict[str, Any] = {}
    if backend == "postgresql" and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    try:
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except (ImportError, exc.NoSuchModuleError) as missing:
        raise DatabaseUnavailable(safe_url(parsed), f"no driver: {missing}") from None


def _create_sqlite_directory(url: URL) -> None:
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseUnavailable(safe_url(url), error.strerror or str(error)) from None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL (readers never wait for the writer) with synchronous=NORMAL: a commit survives
    jagadata (or any process) crashing, and the database is never corrupted, but the
    last commits before a power loss or an operating-system crash may be rolled back (the
    consent chain stays intact: it loses its newest events whole). FULL would sync the WAL on
    every commit (about 5 ms more per commit on the benchmark machine). Deployments whose
    consent records must survive a power cut use PostgreSQL (fsync and synchronous_commit on)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_WRITE_LOCK: Final = "jagadata_sqlite_write_lock"
_write_locks: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def wait_for_write_lock(connection: Connection) -> None:
    """On SQLite, queue in this process for the database's single write lock before a write
    transaction begins, instead of polling for it.

    SQLite lets one transaction write at a time; the others poll (`busy_timeout`) with sleeps
    that grow to 100 ms, so under 8 concurrent writers most of their time is spent asleep after
    the lock was freed. Writers of one process queue here and are woken the moment the previous
    one commits or rolls back; other processes still meet SQLite's own busy handling. A
    transaction that has already written holds SQLite's lock and does not queue (so no writer
    ever waits here while holding it). Elsewhere, and on PostgreSQL, this does nothing."""
    lock = _write_locks.get(connection.engine)
    if lock is None or connection.info.get(_WRITE_LOCK) is not None:
        return
    dbapi = connection.connection.dbapi_connection
    if dbapi is None or getattr(dbapi, "in_transaction", False):
        return
    if lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
        connection.info[_WRITE_LOCK] = lock


def _release(info: dict[Any, Any]) -> None:
    lock = info.pop(_WRITE_LOCK, None)
    if lock is not None:
        lock.release()


def _release_write_lock(connection: Connection) -> None:
    _release(connection.info)


def _release_pooled_write_lock(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        _release(record.info)


def _release_reset_write_lock(
    dbapi_connection: Any, connection_record: Any, reset_state: Any
) -> None:
    del dbapi_connection, reset_state
    if connection_record is not None:
        _release(connection_record.info)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (views render them afterwards)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def atomic(session: Session) -> Iterator[Session]:
    """One service operation, one transaction: commit on success, roll back on any error."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def reaching(engine: Engine) -> Iterator[None]:
    """Turn a failure to reach or open the database into DatabaseUnavailable."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError) as error:
        raise DatabaseUnavailable(safe_url(engine.url), _reason(error)) from error


def ping(engine: Engine) -> None:
    """Raise DatabaseUnavailable unless a trivial query succeeds."""
    with reaching(engine), engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _reason(error: exc.DBAPIError) -> str:
    original = str(error.orig or error).strip()
    lines = [line.strip() for line in original.splitlines() if line.strip()]
    return lines[0] if lines else error.__class__.__name__
