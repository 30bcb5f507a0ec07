"""Engines and sessions: SQLite configured for concurrent use, URLs shown without passwords,
unreachable databases reported as such, and times stored and read back in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import StatementError

from jagadata.db import DatabaseUnavailable, UTCDateTime, make_engine, ping, safe_url
from jagadata.db.engine import SQLITE_BUSY_TIMEOUT_MS, atomic, session_factory


def test_sqlite_file_and_its_directory_are_created_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there" / "jagadata.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    ping(engine)
    engine.dispose()
    assert path.is_file()


def test_sqlite_connections_enforce_foreign_keys_with_wal_and_a_busy_timeout(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'jagadata.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == SQLITE_BUSY_TIMEOUT_MS
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://jaga:s3cret@db.example:5432/pdp",
            "postgresql+psycopg://jaga:***@db.example:5432/pdp",
        ),
        ("postgresql+psycopg://jaga@db.example/pdp", "postgresql+psycopg://jaga@db.example/pdp"),
        ("not a url", "<invalid database URL>"),
    ],
)
def test_urls_are_shown_without_their_password(url: str, shown: str) -> None:
    assert safe_url(url) == shown


def test_an_unreachable_server_is_reported_without_the_password() -> None:
    engine = make_engine("postgresql+psycopg://jaga:s3cret@127.0.0.1:1/pdp")
    with pytest.raises(DatabaseUnavailable) as raised:
        ping(engine)
    engine.dispose()
    assert "s3cret" not in str(raised.value)
    assert raised.value.url == "postgresql+psycopg://jaga:***@127.0.0.1:1/pdp"
    assert raised.value.reason


def test_a_directory_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(DatabaseUnavailable) as raised:
        make_engine(f"sqlite:///{blocker / 'sub' / 'jagadata.sqlite3'}")
    assert str(blocker) in raised.value.url


def _instants(engine: Engine) -> Table:
    table = Table(
        "instant", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime())
    )
    table.create(engine)
    return table


def test_times_are_stored_in_utc_and_read_back_timezone_aware(engine: Engine) -> None:
    table = _instants(engine)
    wib = timezone(timedelta(hours=7))
    written = datetime(2026, 4, 28, 9, 30, tzinfo=wib)
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=1, at=written))
    with engine.connect() as connection:
        read = connection.execute(select(table.c.at)).scalar_one()
    assert read == written
    assert read.utcoffset() == timedelta(0)
    assert read.tzinfo is not None


def test_a_naive_time_is_refused(engine: Engine) -> None:
    table = _instants(engine)
    with pytest.raises(StatementError, match="naive datetime"), engine.begin() as connection:
        connection.execute(insert(table).values(id=1, at=datetime(2026, 4, 28, 9, 30)))


def test_atomic_rolls_back_everything_when_the_operation_fails(engine: Engine) -> None:
    table = _instants(engine)
    with session_factory(engine)() as session:
        with pytest.raises(RuntimeError), atomic(session):
            session.execute(insert(table).values(id=1, at=datetime.now(UTC)))
            raise RuntimeError("stop half-way")
        assert session.execute(select(table.c.id)).all() == []
        with atomic(session):
            session.execute(insert(table).values(id=2, at=datetime.now(UTC)))
    with engine.connect() as connection:
        assert connection.execute(select(table.c.id)).scalars().all() == [2]
