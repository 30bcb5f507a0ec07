"""The JSON API under /api/v1/ and its OpenAPI description."""

from __future__ import annotations

import hashlib
from datetime import date

from fastapi.testclient import TestClient

from jagadata.i18n import gettext
from jagadata.manifest.loader import LoadedManifest

POLICY = "/api/v1/orgs/la-gelato-academy/policy"


def test_the_policy_in_force_defaults_to_indonesian_html(client: TestClient) -> None:
    response = client.get(POLICY)
    assert response.status_code == 200
    body = response.json()
    assert (body["organisation"], body["version"], body["lang"], body["format"]) == (
        "la-gelato-academy",
        1,
        "id",
        "html",
    )
    assert body["effective"] == date(2026, 4, 28).isoformat()
    assert body["prevailing_lang"] == "id"
    assert body["document"].lstrip().lower().startswith("<!doctype html")
    assert body["fragment"].lstrip().startswith("<article")
    assert hashlib.sha256(body["document"].encode()).hexdigest() == body["content_hash"]


def test_a_language_format_and_version_can_be_chosen(client: TestClient) -> None:
    body = client.get(POLICY, params={"lang": "en", "format": "md", "version": 1}).json()
    assert (body["lang"], body["format"], body["version"]) == ("en", "md", 1)
    assert not body["document"].lstrip().startswith("<")


def test_unknown_organisations_and_versions_are_404_in_the_callers_language(
    client: TestClient,
) -> None:
    missing = client.get(POLICY, params={"version": 5}, headers={"accept-language": "id"})
    assert missing.status_code == 404
    message = "This organisation has no such policy version."
    assert missing.json() == {"detail": gettext("id", message, "web")}
    assert gettext("id", message, "web") != message
    unknown = client.get("/api/v1/orgs/tidak-ada/policy")
    assert unknown.status_code == 404 and set(unknown.json()) == {"detail"}


def test_invalid_parameters_are_422(client: TestClient) -> None:
    assert client.get(POLICY, params={"lang": "de"}).status_code == 422
    assert client.get(POLICY, params={"version": 0}).status_code == 422
    assert client.get("/api/v1/orgs/NOT_A_SLUG/policy").status_code == 422


def test_versions_lists_the_history_with_the_one_in_force(client: TestClient) -> None:
    body = client.get("/api/v1/orgs/millealab/versions").json()
    assert body["organisation"] == "millealab"
    assert body["current"] == 1
    assert [v["number"] for v in body["versions"]] == [1]
    assert len(body["versions"][0]["content_hash"]) == 64


def test_openapi_describes_the_api_but_not_the_pages(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/v1/orgs/{org}/policy", "/api/v1/orgs/{org}/versions", "/healthz"} <= paths
    assert not [p for p in paths if p.startswith("/o/")]
    assert client.get("/docs").status_code == 404  # no page that would need a CDN script


def test_every_published_language_and_format_is_served(
    client: TestClient, example_manifests: tuple[LoadedManifest, ...]
) -> None:
    for loaded in example_manifests:
        slug = loaded.manifest.organisation.slug
        for lang in loaded.manifest.languages:
            for fmt in ("html", "md"):
                response = client.get(
                    f"/api/v1/orgs/{slug}/policy", params={"lang": lang, "format": fmt}
                )
                assert response.status_code == 200, (slug, lang, fmt)
                assert (response.json()["lang"], response.json()["format"]) == (lang, fmt)
