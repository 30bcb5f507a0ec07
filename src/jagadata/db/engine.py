"""Engines and sessions for jagadata's own database: SQLite in the data dir, or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
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
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


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
