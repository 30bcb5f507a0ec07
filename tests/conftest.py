"""Fixtures every test may use: a fresh database on SQLite *and* on PostgreSQL, a migrated
session on it, manifests made from the examples, and a web app with the examples published.

A test that asks for `database_url` (or anything built on it) runs once per database.
PostgreSQL comes from JAGADATA_TEST_POSTGRES_URL (default: the local server, user postgres,
database test); each test gets its own scratch database, dropped afterwards. If the server
cannot be reached the PostgreSQL half is skipped, or fails under CI=true.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from jagadata.config import Settings, get_settings
from jagadata.crypto import forget_keyrings
from jagadata.db import make_engine, session_factory
from jagadata.db.migrate import upgrade
from jagadata.manifest.loader import LoadedManifest, load_manifest, load_manifest_text
from scratch_databases import scratch_postgres_database

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXAMPLE_MANIFESTS = (EXAMPLES / "la-gelato-academy.yaml", EXAMPLES / "millealab.yaml")

MakeManifest = Callable[..., LoadedManifest]


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Every test gets its own data directory (and so its own keyring), never the repo's."""
    for name in [
        n for n in os.environ if n.startswith("JAGADATA_") and n != "JAGADATA_TEST_POSTGRES_URL"
    ]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("JAGADATA_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    get_settings.cache_clear()
    forget_keyrings()
    yield
    get_settings.cache_clear()
    forget_keyrings()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file in a temporary directory, then a scratch PostgreSQL one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'jagadata.sqlite3'}"
        return
    with scratch_postgres_database() as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the empty database (not migrated)."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated_engine(engine: Engine) -> Engine:
    upgrade(engine)
    return engine


@pytest.fixture
def session(migrated_engine: Engine) -> Iterator[Session]:
    """A session on a database migrated to the latest revision."""
    with session_factory(migrated_engine)() as session:
        yield session


@pytest.fixture(scope="session")
def make_manifest() -> MakeManifest:
    """A manifest made from La Gelato Academy's, with a generated name and the changes asked for.

    make_manifest(slug="toko-x", effective=date(2026, 1, 1), languages=["id", "en"])
    """
    base = (EXAMPLES / "la-gelato-academy.yaml").read_text(encoding="utf-8")
    faker = Faker("id_ID")

    def make(
        *,
        slug: str | None = None,
        effective: date | None = None,
        languages: list[str] | None = None,
        name: str | None = None,
    ) -> LoadedManifest:
        text_ = base
        if slug is not None:
            text_ = text_.replace("slug: la-gelato-academy", f"slug: {slug}", 1)
            text_ = re.sub(
                r"^  trading_name: .*$",
                f"  trading_name: {json.dumps(name or faker.company())}",
                text_,
                count=1,
                flags=re.MULTILINE,
            )
        if effective is not None:
            text_ = re.sub(
                r"^  effective: .*$",
                f"  effective: {effective.isoformat()}",
                text_,
                count=1,
                flags=re.MULTILINE,
            )
        if languages is not None:
            text_ = text_.replace("languages: [id, en, fr]", f"languages: [{', '.join(languages)}]")
        return load_manifest_text(text_, file=f"{slug or 'la-gelato-academy'}.yaml")

    return make


@pytest.fixture(scope="session")
def example_manifests() -> tuple[LoadedManifest, ...]:
    """The example organisations' manifests (examples/*.yaml), loaded once."""
    return tuple(load_manifest(path) for path in EXAMPLE_MANIFESTS if path.exists())


@pytest.fixture
def settings(
    database_url: str,
    migrated_engine: Engine,
    tmp_path: Path,
    example_manifests: tuple[LoadedManifest, ...],
) -> Settings:
    """Settings on a migrated database where every example organisation is published."""
    from jagadata.orgs import service

    with session_factory(migrated_engine)() as session:
        for loaded in example_manifests:
            service.add_organisation(session=session, loaded=loaded)
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, base_url="http://testserver"
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    from jagadata.web.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def cli_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> Iterator[str]:
    """JAGADATA_* variables pointing the command line at the test database; yields its URL."""
    monkeypatch.setenv("JAGADATA_DATABASE_URL", database_url)
    monkeypatch.setenv("JAGADATA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JAGADATA_BASE_URL", "http://127.0.0.1:8000")
    monkeypatch.delenv("JAGADATA_LANG", raising=False)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()
