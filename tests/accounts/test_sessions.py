"""Sessions end after the idle timeout and, whatever the activity, after the absolute one;
"sign out everywhere" ends every one of them. The clock is moved, never waited for."""

from __future__ import annotations

from accounts_helpers import Clock, audit_actions, form_token, set_up_person, sign_in
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts import service
from jagadata.accounts.models import User, UserSession
from jagadata.audit.service import Actor
from jagadata.config import Settings
from jagadata.db import atomic


def _signed_in(client: TestClient) -> bool:
    response = client.get("/admin/account", follow_redirects=False)
    assert response.status_code in (200, 303)
    return response.status_code == 200


def test_a_session_ends_after_the_idle_timeout(
    web: TestClient,
    settings: Settings,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    person = set_up_person(sessions_of, faker_id)
    sign_in(web, person, clock)
    idle = settings.session_idle_minutes
    clock.advance(minutes=idle - 1)
    assert _signed_in(web)  # activity moves the idle deadline on
    clock.advance(minutes=idle - 1)
    assert _signed_in(web)
    clock.advance(minutes=idle, seconds=1)
    assert not _signed_in(web)
    clock.advance(seconds=5)
    assert not _signed_in(web)


def test_a_session_ends_after_the_absolute_timeout_even_when_busy(
    web: TestClient,
    settings: Settings,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    person = set_up_person(sessions_of, faker_id)
    sign_in(web, person, clock)
    steps = settings.session_absolute_hours * 60 // 20
    for _ in range(steps - 1):
        clock.advance(minutes=20)
        assert _signed_in(web)
    clock.advance(minutes=20)
    assert not _signed_in(web)


def test_sign_out_everywhere_ends_every_session(
    app: FastAPI,
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    person = set_up_person(sessions_of, faker_id)
    sign_in(web, person, clock)
    with TestClient(app) as phone:
        sign_in(phone, person, clock)
        page = web.get("/admin/account")
        assert page.text.count("<tr") == 3  # heading and two sessions
        response = web.post(
            "/admin/account/sign-out-everywhere",
            data={"csrf_token": form_token(web, "/admin/account")},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/admin/login?signed_out=everywhere"
        assert not _signed_in(web)
        assert not _signed_in(phone)
    entry = [e for e in audit_actions(sessions_of) if e.action == "user.signed_out_everywhere"]
    assert len(entry) == 1 and entry[0].details == {"sessions_ended": 2}


def test_sign_out_ends_only_this_session(
    app: FastAPI,
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    person = set_up_person(sessions_of, faker_id)
    sign_in(web, person, clock)
    with TestClient(app) as phone:
        sign_in(phone, person, clock)
        web.post("/admin/logout", data={"csrf_token": form_token(web, "/admin/account")})
        assert not _signed_in(web)
        assert _signed_in(phone)


def test_the_stored_session_holds_no_token_and_a_truncated_address(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    person = set_up_person(sessions_of, faker_id)
    sign_in(web, person, clock)
    token = web.cookies.get("jd_session")
    assert token
    with sessions_of() as session:
        rows = session.scalars(select(UserSession).where(UserSession.stage == "active")).all()
    assert len(rows) == 1
    assert rows[0].token_hash != token and token not in rows[0].token_hash
    assert rows[0].user_agent == "testclient"


def test_disabling_a_user_ends_their_sessions(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    person = set_up_person(sessions_of, faker_id)
    sign_in(web, person, clock)
    with sessions_of() as session, atomic(session):
        user = session.get(User, person.id)
        assert user is not None
        assert service.disable_user(session=session, user=user, actor=Actor.system("test")) == 1
    assert not _signed_in(web)
