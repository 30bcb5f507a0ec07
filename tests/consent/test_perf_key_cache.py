"""The consent check's hot path: a key proven in the last seconds is not looked up again, yet
it gives the same answers as any API route — a revoked key is refused at once in this process
and within `VERIFIED_KEY_SECONDS` anywhere else, another organisation's key gets 404, a key
without `consent:read` 403, and the cache holds no token."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from consent_helpers import GELATO, MILLEALAB, Keys, bearer, event, organisation_id
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts import keys as api_keys
from jagadata.accounts.models import ApiKey
from jagadata.audit.service import Actor
from jagadata.db import atomic

CHECK = f"/api/v1/orgs/{GELATO}/consent/check"


def _key_id(factory: sessionmaker[Session], token: str) -> int:
    prefix = token.split("_")[1]
    with factory() as session:
        session.info["all_organisations"] = True
        found = session.query(ApiKey.id).filter(ApiKey.prefix == prefix).scalar()
        assert found is not None
        return int(found)


def _check(client: TestClient, token: str, ref: str, url: str = CHECK) -> Any:
    return client.post(url, json={"subject_ref": ref, "purpose": "marketing"},
                       headers=bearer(token))  # fmt: skip


def _given(client: TestClient, keys: Keys) -> str:
    ref = "anon_" + "7f3a" * 8
    recorded = client.post(
        f"/api/v1/orgs/{GELATO}/consent/events",
        json={"events": [event(ref)]},
        headers=bearer(keys.writer),
    )
    assert recorded.status_code == 201, recorded.text
    return ref


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    api_keys.forget_verified()


def _count_key_lookups(factory: sessionmaker[Session]) -> list[str]:
    """Statements reading api_key on the database the app uses."""
    seen: list[str] = []
    engine = factory.kw["bind"]

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM api_key" in statement:
            seen.append(statement)

    sa_event.listen(engine, "before_cursor_execute", before)
    return seen


def test_a_repeated_check_does_not_look_the_key_up_again(
    client: TestClient, keys: Keys, sessions_of: sessionmaker[Session]
) -> None:
    ref = _given(client, keys)
    lookups = _count_key_lookups(sessions_of)
    answers = [_check(client, keys.reader, ref) for _ in range(5)]
    assert all(a.status_code == 200 for a in answers)
    assert {a.json()["results"][0]["reason"] for a in answers} == {"given"}
    assert len(lookups) == 1


def test_a_key_revoked_here_is_refused_at_once(
    client: TestClient, keys: Keys, sessions_of: sessionmaker[Session]
) -> None:
    ref = _given(client, keys)
    assert _check(client, keys.reader, ref).status_code == 200
    with sessions_of() as session, atomic(session):
        api_keys.revoke_key(
            session=session,
            organisation_id=organisation_id(sessions_of, GELATO),
            key_id=_key_id(sessions_of, keys.reader),
            actor=Actor.system("test"),
        )
    refused = _check(client, keys.reader, ref)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"


def test_a_key_revoked_elsewhere_is_refused_once_the_cache_lapses(
    client: TestClient,
    keys: Keys,
    sessions_of: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ref = _given(client, keys)
    assert _check(client, keys.reader, ref).status_code == 200
    # Another process revokes it: the row changes, this process's cache is not told.
    with sessions_of() as session, atomic(session):
        session.info["all_organisations"] = True
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == _key_id(sessions_of, keys.reader))
            .values(revoked_at=ApiKey.created_at)
        )
    later = api_keys.time.monotonic() + api_keys.VERIFIED_KEY_SECONDS + 0.001
    monkeypatch.setattr(api_keys.time, "monotonic", lambda: later)
    assert _check(client, keys.reader, ref).status_code == 401


def test_the_cached_key_answers_like_any_api_route(
    client: TestClient, keys: Keys, faker_id: Faker
) -> None:
    ref = _given(client, keys)
    for _ in range(2):  # the first answer from the database, the second from the cache
        assert _check(client, keys.policy, ref).status_code == 403
        assert _check(client, keys.millealab, ref).status_code == 404
        other = _check(client, keys.reader, ref, CHECK.replace(GELATO, MILLEALAB))
        assert other.status_code == 404
        assert _check(client, keys.reader, ref).json()["results"][0]["allowed"] is True
    forged = keys.reader[:-4] + ("AAAA" if not keys.reader.endswith("AAAA") else "BBBB")
    assert _check(client, forged, ref).status_code == 401
    assert client.post(CHECK, json={"subject_ref": ref, "purpose": "marketing"}).status_code == 401


def test_the_cache_holds_no_token(client: TestClient, keys: Keys) -> None:
    ref = _given(client, keys)
    assert _check(client, keys.reader, ref).status_code == 200
    secret = keys.reader.split("_", 2)[2]
    held = repr(api_keys._cache)
    assert api_keys._cache
    for leak in (keys.reader, secret, api_keys.secret_hash(secret),
                 hashlib.sha256(keys.reader.encode()).hexdigest()):  # fmt: skip
        assert leak not in held
        assert leak.encode() not in b"".join(digest for (_url, digest) in api_keys._cache)


def test_the_fast_path_answers_exactly_as_the_declared_route(
    client: TestClient, keys: Keys, faker_id: Faker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`application/json` takes the check's fast path; `application/x-check+json` is JSON to
    FastAPI but not to the fast path, so the declared route answers: both must agree."""
    from jagadata.consent import api

    ref = _given(client, keys)
    taken: list[bool] = []
    original = api._fast_check

    async def spying(request: Any) -> Any:
        answer = await original(request)
        taken.append(answer is not None)
        return answer

    monkeypatch.setattr(api, "_fast_check", spying)
    person = {"kind": "email", "value": faker_id.free_email()}
    bodies: list[Any] = [
        {"subject_ref": ref, "purpose": "marketing"},
        {"subject": person, "purpose": "marketing"},
        {"checks": [{"subject_ref": ref, "purpose": "marketing"}, {"subject": person,
                                                                   "purpose": "marketing"}]},
        {"subject_ref": ref, "purpose": "marketing", "checks": [{"subject_ref": ref,
                                                                 "purpose": "marketing"}]},
        {"subject_ref": ref},
        {"subject_ref": ref, "purpose": "tidak-ada"},
        {"subject_ref": "bukan referensi", "purpose": "marketing"},
        {"subject_ref": ref, "purpose": "marketing", "extra": 1},
        [1, 2],
    ]  # fmt: skip
    cases = [(CHECK, bearer(keys.reader), body) for body in bodies]
    cases += [(CHECK, bearer(keys.policy), bodies[0]), (CHECK, bearer(keys.millealab), bodies[0]),
              (CHECK.replace(GELATO, "Bukan_Slug"), bearer(keys.reader), bodies[0]),
              (CHECK, {"authorization": "Basic abc"}, bodies[0]),
              (CHECK, bearer(keys.reader[:-2] + "zz"), bodies[0])]  # fmt: skip
    for url, headers, body in cases:
        answers = []
        for media_type in ("application/json", "application/x-check+json"):
            answers.append(client.post(url, content=json.dumps(body), headers={
                **headers, "content-type": media_type, "accept-language": "id"}))  # fmt: skip
        fast, declared = answers
        assert (fast.status_code, fast.json()) == (declared.status_code, declared.json()), body
    assert True in taken  # the usual requests did take the fast path
    for content in (b"{", b"\xff\xfe", b""):
        answers = [
            client.post(CHECK, content=content,
                        headers={**bearer(keys.reader), "content-type": media_type})
            for media_type in ("application/json", "application/x-check+json")
        ]  # fmt: skip
        assert answers[0].status_code == answers[1].status_code >= 400
        assert answers[0].json() == answers[1].json()
