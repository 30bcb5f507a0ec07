"""Scratch databases for tests: PostgreSQL (jagadata's own store, and an organisation's
database) and MariaDB (an organisation's database), each created empty for one test and
dropped after it. A server that cannot be reached skips the test, or fails it under CI=true."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

POSTGRES_URL = os.environ.get(
    "JAGADATA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_URL = os.environ.get(
    "JAGADATA_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4"
)


@cache
def _problem(url: str) -> str | None:
    """Why the server at `url` cannot be used, or None; asked once per test session."""
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        return str(getattr(error, "orig", error)).strip().splitlines()[0]
    finally:
        engine.dispose()
    return None


def _require(kind: str, url: str, variable: str) -> None:
    problem = _problem(url)
    if problem is None:
        return
    where = make_url(url).render_as_string(hide_password=True)
    message = (
        f"{kind} at {where} cannot be used ({problem}); start it (scripts/services) or point "
        f"{variable} at a server"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_postgres() -> None:
    """Skip (or, under CI=true, fail) the calling test when PostgreSQL is unreachable."""
    _require("PostgreSQL", POSTGRES_URL, "JAGADATA_TEST_POSTGRES_URL")


@contextmanager
def scratch_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test; dropped (even if still in use) after."""
    require_postgres()
    name = f"jagadata_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def scratch_mariadb_database() -> Iterator[str]:
    """A new, empty MariaDB database for one test; dropped after."""
    _require("MariaDB", MARIADB_URL, "JAGADATA_TEST_MARIADB_URL")
    name = f"jagadata_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(MARIADB_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(
                text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            )
        try:
            yield make_url(MARIADB_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        admin.dispose()


ENGINES = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


@contextmanager
def scratch_target(kind: str, directory: Path) -> Iterator[str]:
    """The URL of an empty database of `kind` (sqlite, postgresql, mariadb)."""
    if kind == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{directory / f'target-{uuid.uuid4().hex[:8]}.sqlite3'}"
    elif kind == "postgresql":
        with scratch_postgres_database() as url:
            yield url
    elif kind == "mariadb":
        with scratch_mariadb_database() as url:
            yield url
    else:  # pragma: no cover - a typo in a test
        raise ValueError(kind)
