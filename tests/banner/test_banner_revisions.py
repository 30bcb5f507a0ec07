"""Policy revisions and the banner: a change that needs fresh consent (Art. 21(2)) changes the
banner's epoch and old cookie consents no longer count; a change that does not keeps both;
versions published before the banner existed get their cookie purposes on first use; Google
Consent Mode is switched on by the manifest."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from jagadata.consent import state
from jagadata.consent.models import ConsentTerms
from jagadata.db import atomic
from jagadata.db.tenancy import ALL_ORGANISATIONS_KEY
from jagadata.manifest.loader import load_manifest_text
from jagadata.orgs.service import add_organisation, get_organisation, update_organisation

ROOT = Path(__file__).resolve().parents[2]
GELATO = "la-gelato-academy"
TEXT = (ROOT / "examples" / "la-gelato-academy.yaml").read_text(encoding="utf-8")


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def config(client: TestClient, slug: str = GELATO) -> dict[str, Any]:
    script = client.get(f"/o/{slug}/banner.js").text
    found = re.search(r"var C = (\{.*?\}), K = ", script)
    assert found
    value: dict[str, Any] = json.loads(found.group(1))
    return value


def publish(app: FastAPI, text: str, *, new: bool = False) -> None:
    loaded = load_manifest_text(text, file="revision.yaml")
    with app.state.sessions() as session:
        (add_organisation if new else update_organisation)(session=session, loaded=loaded)


def give(client: TestClient, consent_id: str, version: int) -> None:
    response = client.post(
        f"/api/v1/orgs/{GELATO}/banner/choices",
        json={
            "consent_id": consent_id,
            "choice_id": secrets.token_hex(16),
            "language": "id",
            "manifest_version": version,
            "choices": [{"category": "analytics", "allowed": True}],
        },
    )
    assert response.status_code == 201, response.text


def reason(app: FastAPI, consent_id: str, purpose: str = "cookies_analytics") -> str:
    with app.state.sessions() as session:
        organisation = get_organisation(session=session, slug=GELATO)
        assert organisation is not None
        answer = state.check(
            session=session, organisation_id=organisation.id, subject_ref=consent_id,
            purpose=purpose,
        )  # fmt: skip
        return answer.reason.value


def test_only_a_change_needing_fresh_consent_asks_again(app: FastAPI, client: TestClient) -> None:
    if date.today() < date(2026, 5, 2):
        pytest.fail("the revisions below take effect on 2026-05-02: the clock is too early")
    first = config(client)
    person = "anon_" + secrets.token_hex(16)
    give(client, person, first["v"])
    assert reason(app, person) == "given"

    reworded_contact = TEXT.replace('"+62 812 0000 0001"', '"+62 812 0000 0002"', 1).replace(
        "effective: 2026-04-28", "effective: 2026-05-01", 1
    )
    publish(app, reworded_contact)
    second = config(client)
    assert second["v"] == first["v"] + 1
    assert second["e"] == first["e"]  # a new phone number: consents still count
    assert reason(app, person) == "given"

    longer = reworded_contact.replace(
        "    duration: 24m\n    provider: Google Analytics",
        "    duration: 36m\n    provider: Google Analytics",
        1,
    ).replace("effective: 2026-05-01", "effective: 2026-05-02", 1)
    assert longer != reworded_contact
    publish(app, longer)
    third = config(client)
    assert third["v"] == second["v"] + 1
    assert third["e"] != second["e"]  # analytics cookies last longer: everyone is asked again
    assert reason(app, person) == "reconsent_required"
    assert reason(app, person, "cookies_marketing") == "never_asked"
    give(client, person, third["v"])
    assert reason(app, person) == "given"


def test_a_version_published_before_the_banner_gets_its_cookie_purposes(
    app: FastAPI, client: TestClient
) -> None:
    with app.state.sessions() as session, atomic(session):
        session.info[ALL_ORGANISATIONS_KEY] = True
        session.execute(delete(ConsentTerms).where(ConsentTerms.purpose.like("cookies_%")))
    person = "anon_" + secrets.token_hex(16)
    give(client, person, config(client)["v"])
    with app.state.sessions() as session:
        session.info[ALL_ORGANISATIONS_KEY] = True
        written = set(
            session.scalars(
                select(ConsentTerms.purpose).where(ConsentTerms.purpose.like("cookies_%"))
            )
        )
    assert written == {"cookies_preference", "cookies_analytics", "cookies_marketing"}
    assert reason(app, person) == "given"


def test_consent_mode_is_off_unless_the_manifest_turns_it_on(
    app: FastAPI, client: TestClient
) -> None:
    assert config(client)["g"] is False
    text = TEXT.replace("slug: la-gelato-academy", "slug: toko-gcm", 1).replace(
        "\nchildren:\n", "\ncookie_banner:\n  google_consent_mode: true\n\nchildren:\n", 1
    )
    publish(app, text, new=True)
    assert config(client, "toko-gcm")["g"] is True
