"""API keys: shown once, stored as a hash, scoped, revocable, used time kept to the minute;
a key of one organisation gets 404 for another organisation's resources."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

import pytest
from accounts_helpers import (
    GELATO,
    MILLEALAB,
    Clock,
    audit_actions,
    organisation_id,
)
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts import keys
from jagadata.accounts.deps import ApiCaller, api_key_for
from jagadata.accounts.models import ApiKey
from jagadata.audit.service import Actor
from jagadata.db import atomic


def _create(
    factory: sessionmaker[Session], org: str, scopes: list[str], name: str = "toko"
) -> tuple[int, str]:
    with factory() as session, atomic(session):
        key, token = keys.create_key(
            session=session,
            organisation_id=organisation_id(factory, org),
            name=name,
            scopes=scopes,
            actor=Actor.system("test"),
        )
        return key.id, token


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_a_key_is_shown_once_and_stored_as_a_hash(sessions_of: sessionmaker[Session]) -> None:
    key_id, token = _create(sessions_of, GELATO, ["consent:write", "consent:read"])
    assert re.fullmatch(r"jd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", token)
    secret = token.split("_", 2)[2]
    with sessions_of() as session, atomic(session):
        key = keys.list_keys(session=session, organisation_id=organisation_id(sessions_of, GELATO))
        assert [k.id for k in key] == [key_id]
        assert key[0].scopes == ["consent:read", "consent:write"]
        assert key[0].secret_hash == keys.secret_hash(secret) and secret not in key[0].secret_hash
    created = [e for e in audit_actions(sessions_of, organisation_id(sessions_of, GELATO))
               if e.action == "api_key.created"]  # fmt: skip
    assert len(created) == 1 and secret not in repr(created[0].details)


def test_the_api_knows_the_key_and_its_organisation(
    web: TestClient, sessions_of: sessionmaker[Session], clock: Clock
) -> None:
    _, token = _create(sessions_of, GELATO, ["policy:read"])
    response = web.get(f"/api/v1/orgs/{GELATO}/api-key", headers=_bearer(token))
    assert response.status_code == 200
    body = response.json()
    assert body["organisation"] == GELATO and body["scopes"] == ["policy:read"]
    assert token not in response.text


def test_a_key_of_one_organisation_gets_404_for_another(
    web: TestClient, sessions_of: sessionmaker[Session]
) -> None:
    _, gelato_token = _create(sessions_of, GELATO, ["policy:read", "consent:read"])
    response = web.get(f"/api/v1/orgs/{MILLEALAB}/api-key", headers=_bearer(gelato_token))
    assert response.status_code == 404
    unknown = web.get("/api/v1/orgs/tidak-ada/api-key", headers=_bearer(gelato_token))
    assert unknown.status_code == 404 and unknown.json() == response.json()


def test_missing_wrong_and_revoked_keys_get_401(
    web: TestClient, sessions_of: sessionmaker[Session]
) -> None:
    key_id, token = _create(sessions_of, GELATO, ["policy:read"])
    url = f"/api/v1/orgs/{GELATO}/api-key"
    assert web.get(url).status_code == 401
    assert web.get(url).headers["www-authenticate"] == "Bearer"
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert web.get(url, headers=_bearer(forged)).status_code == 401
    assert web.get(url, headers=_bearer("jd_nonsense")).status_code == 401
    with sessions_of() as session, atomic(session):
        keys.revoke_key(
            session=session,
            organisation_id=organisation_id(sessions_of, GELATO),
            key_id=key_id,
            actor=Actor.system("test"),
        )
    assert web.get(url, headers=_bearer(token)).status_code == 401
    revoked = [e.action for e in audit_actions(sessions_of, organisation_id(sessions_of, GELATO))]
    assert "api_key.revoked" in revoked


def test_a_key_without_the_scope_gets_403(
    app: FastAPI, web: TestClient, sessions_of: sessionmaker[Session]
) -> None:
    def consent_endpoint(
        caller: Annotated[ApiCaller, Depends(api_key_for(keys.Scope.CONSENT_WRITE))],
    ) -> dict[str, str]:
        return {"organisation": caller.organisation.slug}

    app.add_api_route("/api/v1/orgs/{org}/probe-consent", consent_endpoint, methods=["POST"])
    _, reader = _create(sessions_of, GELATO, ["consent:read"])
    _, writer = _create(sessions_of, GELATO, ["consent:write"], name="aplikasi")
    url = f"/api/v1/orgs/{GELATO}/probe-consent"
    assert web.post(url, headers=_bearer(reader)).status_code == 403
    assert web.post(url, headers=_bearer(writer)).json() == {"organisation": GELATO}
    assert web.post(url.replace(GELATO, MILLEALAB), headers=_bearer(writer)).status_code == 404


def test_last_used_is_written_at_most_once_a_minute(
    web: TestClient, sessions_of: sessionmaker[Session], clock: Clock
) -> None:
    key_id, token = _create(sessions_of, GELATO, ["policy:read"])
    url = f"/api/v1/orgs/{GELATO}/api-key"

    def last_used() -> object:
        with sessions_of() as session:
            session.info["all_organisations"] = True
            return session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))

    assert last_used() is None
    web.get(url, headers=_bearer(token))
    first = clock.now
    assert last_used() == first
    clock.advance(seconds=59)
    web.get(url, headers=_bearer(token))
    assert last_used() == first
    clock.advance(seconds=1)
    web.get(url, headers=_bearer(token))
    assert last_used() == first + timedelta(seconds=60)


def test_key_prefixes_never_read_as_phone_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    from jagadata.accounts import keys as key_module

    draws = iter(["071444755107", "0a1444755107"])
    monkeypatch.setattr(key_module.secrets, "token_hex", lambda _n: next(draws))
    assert key_module.generate().prefix == "0a1444755107"
