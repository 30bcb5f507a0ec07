"""The banner script and its recording endpoint, against the app on SQLite and PostgreSQL: the
script carries the categories of the version in force and the texts, the endpoint records each
choice in the ledger with its evidence, refuses what the banner did not ask, answers CORS
preflights, and slows down a flood."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.consent.models import ConsentEvent
from jagadata.consent.terms import consent_text, cookie_notice, cookie_purpose
from jagadata.db.tenancy import ALL_ORGANISATIONS_KEY
from jagadata.i18n import gettext
from jagadata.manifest.loader import LoadedManifest
from jagadata.manifest.schema import CookieCategory

GELATO = "la-gelato-academy"
MILLEALAB = "millealab"
CHOICES = f"/api/v1/orgs/{GELATO}/banner/choices"


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def config_of(script: str) -> dict[str, Any]:
    """The configuration inlined in banner.js."""
    found = re.search(r"var C = (\{.*?\}), K = ", script)
    assert found, script[:300]
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def anon() -> str:
    return "anon_" + secrets.token_hex(16)


def choice(
    consent_id: str, allowed: dict[str, bool], *, version: int = 1, lang: str = "id"
) -> dict[str, Any]:
    return {
        "consent_id": consent_id,
        "choice_id": secrets.token_hex(16),
        "language": lang,
        "manifest_version": version,
        "choices": [{"category": k, "allowed": v} for k, v in allowed.items()],
    }


def events_of(app: FastAPI, subject_ref: str) -> list[ConsentEvent]:
    with app.state.sessions() as session:
        session.info[ALL_ORGANISATIONS_KEY] = True
        return list(
            session.scalars(
                select(ConsentEvent)
                .where(ConsentEvent.subject_ref == subject_ref)
                .order_by(ConsentEvent.sequence)
            )
        )


def test_the_script_carries_the_banner_of_the_version_in_force(
    client: TestClient, example_manifests: tuple[LoadedManifest, ...]
) -> None:
    response = client.get(f"/o/{GELATO}/banner.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["access-control-allow-origin"] == "*"
    assert "Sec-GPC" in response.headers["vary"]
    assert response.content.isascii()  # readable whatever charset a static host announces
    config = config_of(response.text)
    assert config["o"] == GELATO and config["v"] == 1 and config["gpc"] is False
    assert config["l"] == ["id", "en", "fr"]
    assert config["api"] == f"http://testserver{CHOICES}"
    categories = {c["k"]: c for c in config["c"]}
    assert list(categories) == ["essential", "preference", "analytics", "marketing"]
    assert categories["essential"]["r"] is True
    assert categories["analytics"]["x"] == ["_ga", "_ga_*"]
    gelato = next(m for m in example_manifests if m.manifest.organisation.slug == GELATO)
    assert categories["analytics"]["d"]["id"] == cookie_notice(
        gelato.manifest, CookieCategory.ANALYTICS, "id"
    )
    assert "24" in categories["analytics"]["i"]["id"]  # 24 months, in words
    assert config["t"]["id"]["accept"] == gettext("id", "Accept all", "banner")
    assert config["t"]["fr"]["reject"] == gettext("fr", "Reject all", "banner")
    assert "Art. 20(2)(a)" in config["t"]["en"]["law"]
    assert ".jd-btn{" in config["css"]
    assert config["g"] is False


def test_sec_gpc_starts_the_banner_denied(client: TestClient) -> None:
    config = config_of(client.get(f"/o/{GELATO}/banner.js", headers={"Sec-GPC": "1"}).text)
    assert config["gpc"] is True


def test_an_unknown_organisation_has_no_banner(client: TestClient) -> None:
    assert client.get("/o/no-such-org/banner.js").status_code == 404


def test_gpc_json_says_gpc_is_honoured(client: TestClient) -> None:
    response = client.get("/.well-known/gpc.json")
    assert response.status_code == 200
    body = response.json()
    assert body["gpc"] is True
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", body["lastUpdate"])


def test_a_preflight_from_another_origin_is_answered(client: TestClient) -> None:
    response = client.options(
        CHOICES,
        headers={
            "Origin": "https://gelato.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


def test_each_choice_is_recorded_with_its_evidence(app: FastAPI, client: TestClient) -> None:
    person = anon()
    headers = {
        "User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/131",
        "Origin": "https://x.example",
    }
    first = client.post(
        CHOICES,
        json=choice(person, {"preference": False, "analytics": True, "marketing": False}),
        headers=headers,
    )
    assert first.status_code == 201, first.text
    assert first.headers["access-control-allow-origin"] == "*"
    kinds = {e["category"]: (e["purpose"], e["kind"]) for e in first.json()["events"]}
    assert kinds == {
        "preference": ("cookies_preference", "refused"),
        "analytics": ("cookies_analytics", "given"),
        "marketing": ("cookies_marketing", "refused"),
    }
    second = client.post(
        CHOICES,
        json=choice(person, {"preference": False, "analytics": False, "marketing": False}),
        headers=headers,
    )
    assert second.status_code == 201, second.text
    assert {e["category"]: e["kind"] for e in second.json()["events"]}["analytics"] == "withdrawn"

    events = events_of(app, person)
    assert len(events) == 6
    for event in events:
        assert event.channel == "cookie_banner"
        assert event.language == "id"
        assert event.manifest_version == 1
        assert "ip_network" not in event.evidence  # the test client has no address
        assert event.evidence["user_agent"].startswith("Mozilla/5.0 (Linux; Android 14)")
    analytics = [e for e in events if e.purpose == "cookies_analytics"]
    assert [e.kind for e in analytics] == ["given", "withdrawn"]
    config = config_of(client.get(f"/o/{GELATO}/banner.js").text)
    shown = next(c for c in config["c"] if c["k"] == "analytics")["d"]["id"]
    assert analytics[0].notice_hash == hashlib.sha256(shown.encode("utf-8")).hexdigest()


def test_a_category_with_a_consent_purpose_is_recorded_under_it(
    app: FastAPI, client: TestClient
) -> None:
    person = anon()
    response = client.post(
        f"/api/v1/orgs/{MILLEALAB}/banner/choices",
        json=choice(person, {"preference": True}, lang="en"),
    )
    assert response.status_code == 201, response.text
    (event,) = events_of(app, person)
    assert (event.purpose, event.kind, event.language) == ("personalisation", "given", "en")
    config = config_of(client.get(f"/o/{MILLEALAB}/banner.js").text)
    shown = next(c for c in config["c"] if c["k"] == "preference")["d"]["en"]
    assert event.notice_hash == hashlib.sha256(shown.encode("utf-8")).hexdigest()


def test_a_retried_choice_records_nothing_new(app: FastAPI, client: TestClient) -> None:
    person = anon()
    body = choice(person, {"analytics": True})
    assert client.post(CHOICES, json=body).status_code == 201
    again = client.post(CHOICES, json=body)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert len(events_of(app, person)) == 1
    other = {**body, "choices": [{"category": "analytics", "allowed": False}]}
    conflict = client.post(CHOICES, json=other)
    assert conflict.status_code == 409
    assert conflict.json()["errors"][0]["field"] == "choice_id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consent_id": "budi@contoh.example"}, "consent_id"),
        ({"consent_id": "anon_short"}, "consent_id"),
        ({"language": "de"}, "language"),
        ({"manifest_version": 7}, "manifest_version"),
        ({"choices": []}, "choices"),
        ({"choices": [{"category": "essential", "allowed": False}]}, "choices[0].category"),
        ({"choices": [{"category": "analytics", "allowed": "ya"}]}, "choices[0].allowed"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_choice_is_refused_with_a_problem_document(
    app: FastAPI, client: TestClient, change: dict[str, Any], field: str
) -> None:
    person = anon()
    body = choice(person, {"analytics": True}) | change
    response = client.post(CHOICES, json=body, headers={"Accept-Language": "id"})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["detail"]
    assert field in [e["field"] for e in problem["errors"]], problem
    assert response.headers["access-control-allow-origin"] == "*"
    assert events_of(app, person) == []


def test_a_category_the_banner_does_not_ask_about_is_refused(client: TestClient) -> None:
    response = client.post(
        f"/api/v1/orgs/{MILLEALAB}/banner/choices",
        json=choice(anon(), {"analytics": True}),
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "choices[0].category",
            "message": "This banner does not ask about analytics cookies.",
        }
    ]


def test_the_same_category_twice_is_refused(client: TestClient) -> None:
    body = choice(anon(), {"analytics": True})
    body["choices"].append({"category": "analytics", "allowed": False})
    response = client.post(CHOICES, json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "choices[1].category"


def test_not_json_is_a_problem_document(client: TestClient) -> None:
    response = client.post(
        CHOICES, content=b"\xff\xfe", headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.json()["detail"]


def test_an_unknown_organisation_is_a_404_problem(client: TestClient) -> None:
    response = client.post(
        "/api/v1/orgs/no-such-org/banner/choices", json=choice(anon(), {"analytics": True})
    )
    assert response.status_code == 404
    assert response.json()["detail"]


def test_a_flood_from_one_visitor_is_slowed_down(app: FastAPI, client: TestClient) -> None:
    person = anon()
    answers = [
        client.post(CHOICES, json=choice(person, {"analytics": i % 2 == 0})).status_code
        for i in range(21)
    ]
    assert answers[:20] == [201] * 20
    assert answers[20] == 429
    limited = client.post(CHOICES, json=choice(person, {"analytics": True}))
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert limited.json()["detail"]
    assert len(events_of(app, person)) == 20


def test_no_api_key_is_needed_but_the_session_is_not_used(client: TestClient) -> None:
    """Cookies sent along (a signed-in console user on the same host) change nothing."""
    client.cookies.set("jagadata_session", "whatever")
    response = client.post(CHOICES, json=choice(anon(), {"marketing": True}))
    assert response.status_code == 201


def _session_unused(session: Session) -> None:  # pragma: no cover - keeps the import honest
    del session


def test_a_reserved_purpose_reads_as_a_consent_purpose_with_the_text_shown(
    app: FastAPI, client: TestClient, example_manifests: tuple[LoadedManifest, ...]
) -> None:
    """What a receipt or a record needs to show an event of `cookies_analytics`."""
    person = anon()
    assert (
        client.post(CHOICES, json=choice(person, {"analytics": True}, lang="fr")).status_code == 201
    )
    (event,) = events_of(app, person)
    gelato = next(m for m in example_manifests if m.manifest.organisation.slug == GELATO)
    purpose = cookie_purpose(gelato.manifest, event.purpose)
    assert purpose is not None and purpose.id == "cookies_analytics"
    assert purpose.name.get("id") == "Analitik"
    text = consent_text(purpose, "fr")
    assert text is not None
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == event.notice_hash
    assert cookie_purpose(gelato.manifest, "marketing") is None  # a purpose of the manifest


def test_a_banner_choice_has_a_receipt_page_and_a_record(client: TestClient, app: FastAPI) -> None:
    consent_id = anon()
    response = client.post(CHOICES, json=choice(consent_id, {"analytics": True}))
    assert response.status_code in (200, 201), response.text
    [event] = [e for e in events_of(app, consent_id) if e.kind == "given"]
    assert event.purpose.startswith("cookies_") or event.purpose
    assert event.receipt_id is not None
    page = client.get(f"/o/{GELATO}/receipts/{event.receipt_id}")
    assert page.status_code == 200
    assert "analytics" in page.text.lower() or "analitik" in page.text.lower()
    jws = client.get(f"/o/{GELATO}/receipts/{event.receipt_id}/receipt.jws")
    assert jws.status_code == 200 and jws.text.count(".") == 2
