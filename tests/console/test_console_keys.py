"""The API keys page (moved here from the accounts package): a key is shown once, listed with
its last use, revoked; another organisation's keys answer 404."""

from __future__ import annotations

import re

from accounts_helpers import (
    GELATO,
    MILLEALAB,
    Clock,
    form_token,
    organisation_id,
    set_up_person,
    sign_in,
)
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts import keys
from jagadata.audit.service import Actor
from jagadata.db import atomic


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _create(factory: sessionmaker[Session], org: str) -> tuple[int, str]:
    with factory() as session, atomic(session):
        key, token = keys.create_key(
            session=session,
            organisation_id=organisation_id(factory, org),
            name="toko",
            scopes=["policy:read"],
            actor=Actor.system("test"),
        )
        return key.id, token


def test_the_keys_page_creates_shows_once_and_revokes(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    owner = set_up_person(sessions_of, faker_id)
    sign_in(web, owner, clock)
    page = f"/admin/o/{GELATO}/keys"
    response = web.post(
        page,
        data={"name": "WordPress", "scope": ["consent:write", "policy:read"],
              "csrf_token": form_token(web, page)},
    )  # fmt: skip
    assert response.status_code == 200
    token = re.search(r'id="new-key">(jd_[^<]+)<', response.text)
    assert token is not None
    assert (
        web.get(f"/api/v1/orgs/{GELATO}/api-key", headers=_bearer(token.group(1))).json()["name"]
        == "WordPress"
    )
    listing = web.get(page).text
    assert token.group(1) not in listing and "WordPress" in listing
    prefix = token.group(1).split("_")[1]
    row = re.search(rf"<tr data-key=\"\d+\">.*?jd_{prefix}_.*?</tr>", listing, re.DOTALL)
    assert row is not None and "—" not in row.group(0), "its last use (just now) is shown"
    key_id = re.search(r"/keys/(\d+)/revoke", listing)
    assert key_id is not None
    web.post(f"{page}/{key_id.group(1)}/revoke", data={"csrf_token": form_token(web, page)})
    url = f"/api/v1/orgs/{GELATO}/api-key"
    assert web.get(url, headers=_bearer(token.group(1))).status_code == 401
    refused = web.post(page, data={"name": "", "csrf_token": form_token(web, page)})
    assert refused.status_code == 422


def test_an_owner_of_one_organisation_cannot_touch_anothers_keys(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    owner = set_up_person(sessions_of, faker_id)
    other_key, other_token = _create(sessions_of, MILLEALAB)
    sign_in(web, owner, clock)
    token = form_token(web, f"/admin/o/{GELATO}/keys")
    assert web.get(f"/admin/o/{MILLEALAB}/keys").status_code == 404
    assert (
        web.post(
            f"/admin/o/{MILLEALAB}/keys/{other_key}/revoke", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        web.post(
            f"/admin/o/{GELATO}/keys/{other_key}/revoke", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        web.get(f"/api/v1/orgs/{MILLEALAB}/api-key", headers=_bearer(other_token)).status_code
        == 200
    )
