"""No traceback ever reaches a visitor: unexpected errors become a short page with a reference,
a dead database a 503, and /healthz says which of the two it is."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from jagadata.config import Settings
from jagadata.i18n import gettext
from jagadata.web.app import create_app


def _web(lang: str, message: str) -> str:
    return gettext(lang, message, "web")


def _failing(app: FastAPI) -> FastAPI:
    def explode() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/boom/", explode, include_in_schema=False)
    app.add_api_route("/api/v1/boom", explode, include_in_schema=False)
    return app


def test_an_unexpected_error_shows_a_short_page_with_a_reference(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    failing = _failing(app)
    with caplog.at_level(logging.ERROR, logger="jagadata.web"), TestClient(failing) as client:
        response = client.get("/boom/", headers={"accept-language": "id"})
    assert response.status_code == 500
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    assert _web("id", "Something went wrong") in response.text
    reference = re.search(r"\b([0-9a-f]{8})\b", response.text)
    assert reference is not None
    logged = [r for r in caplog.records if reference.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_an_unexpected_api_error_stays_json(app: FastAPI) -> None:
    with TestClient(_failing(app)) as client:
        response = client.get("/api/v1/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == "internal error" and re.fullmatch(r"[0-9a-f]{8}", body["reference"])


@pytest.fixture
def dead_database(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path, database_url="postgresql+psycopg://jaga:s3cret@127.0.0.1:1/pdp"
    )


def test_a_dead_database_gives_visitors_a_503_page(dead_database: Settings) -> None:
    with TestClient(create_app(dead_database)) as client:
        response = client.get("/o/la-gelato-academy/", headers={"accept-language": "fr"})
    assert response.status_code == 503
    assert _web("fr", "Temporarily unavailable") in response.text
    assert "s3cret" not in response.text and "127.0.0.1" not in response.text


def test_healthz_reports_a_dead_database(dead_database: Settings) -> None:
    with TestClient(create_app(dead_database)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
    assert response.headers["cache-control"] == "no-store"


def test_healthz_reports_pending_migrations(database_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "migrations pending"}


def test_healthz_is_ok_on_a_migrated_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_the_error_page_follows_the_visitors_chosen_language(app: FastAPI) -> None:
    with TestClient(_failing(app)) as client:
        client.cookies.set("lang", "fr")
        response = client.get("/boom/", headers={"accept-language": "id"})
    assert response.status_code == 500
    assert '<html lang="fr">' in response.text
    assert _web("fr", "Something went wrong") in response.text
