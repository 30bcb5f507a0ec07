"""`jagadata datastore connect`: a database's URL kept encrypted in jagadata under the name the
manifest uses, checked once before it is kept, never printed with its password — and read back
by `datastore scan --org` and by the engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from test_scan import build_school, manifest_with_school
from typer.testing import CliRunner

from jagadata.cli import app
from jagadata.datastores.models import DatastoreSecret
from jagadata.db import session_factory
from jagadata.db.tenancy import scope
from jagadata.orgs.models import Organisation

ORG = "la-gelato-academy"


def connect(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["datastore", "connect", ORG, *args, "--lang", "en"], input=stdin
    )
    return result.exit_code, result.output


def stored(database_url: str) -> list[tuple[str, str]]:
    engine = create_engine(database_url)
    try:
        with session_factory(engine)() as session:
            organisation = session.scalars(
                select(Organisation.id).where(Organisation.slug == ORG)
            ).one()
            scope(session, organisation)
            return [(s.name, s.url) for s in session.scalars(select(DatastoreSecret))]
    finally:
        engine.dispose()


def test_a_connection_is_checked_kept_encrypted_and_read_by_the_scan(
    cli_environment: str, settings: object, tmp_path: Path
) -> None:
    target = f"sqlite:///{tmp_path / 'school.sqlite3'}"
    build_school(target)
    code, out = connect("school", stdin=target + "\n")
    assert code == 0, out
    assert "Stored the connection school of la-gelato-academy, encrypted" in out
    assert stored(cli_environment) == [("school", target)]
    engine = create_engine(cli_environment)
    with engine.connect() as c:
        (raw,) = c.execute(text("SELECT url FROM datastore_secret")).scalars()
    engine.dispose()
    assert target not in raw and raw.startswith("jd1:")  # encrypted at rest

    manifest = manifest_with_school(tmp_path, target, "{secret: school}")
    result = CliRunner().invoke(
        app, ["datastore", "scan", str(manifest), "school_db", "--org", ORG, "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    assert "No finding in" in result.output

    result = CliRunner().invoke(
        app, ["datastore", "scan", str(manifest), "school_db", "--lang", "en"]
    )
    assert result.exit_code == 2
    assert "Add --org ORG" in result.output


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql+psycopg://jaga:rahasia-sekali@127.0.0.1:1/x", "cannot connect"),
        ("no-such-driver://jaga:rahasia-sekali@host/x", "cannot be read"),
    ],
)
def test_a_url_that_does_not_work_is_not_kept_and_its_password_not_shown(
    cli_environment: str, settings: object, url: str, said: str
) -> None:
    code, out = connect("broken", url)
    assert code == 2
    assert said in out and "rahasia-sekali" not in out
    assert stored(cli_environment) == []
