"""Every form that changes something needs its token: without it the request gets a 403 page
in the visitor's language and changes nothing; the API (API keys, no cookies) is exempt."""

from __future__ import annotations

from accounts_helpers import Clock, form_token, set_up_person, sign_in
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.models import UserSession
from jagadata.i18n import gettext

REFUSED = "The form could not be accepted"


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "accounts")


def _live_sessions(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        rows = session.scalars(select(UserSession).where(UserSession.ended_at.is_(None)))
        return len(rows.all())


def test_a_form_without_its_token_is_refused_and_changes_nothing(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    person = set_up_person(sessions_of, faker_id)
    sign_in(web, person, clock)
    before = _live_sessions(sessions_of)
    for data in ({}, {"csrf_token": "0" * 64}, {"csrf_token": ""}):
        response = web.post(
            "/admin/account/sign-out-everywhere",
            data=data,
            headers={"accept-language": "fr"},
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert _t("fr", REFUSED) in response.text and _t("fr", REFUSED) != REFUSED
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert _live_sessions(sessions_of) == before == 1


def test_the_token_of_another_session_is_refused(
    app: FastAPI, web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    victim = set_up_person(sessions_of, faker_id)
    attacker = set_up_person(sessions_of, faker_id)
    sign_in(web, victim, clock)
    with TestClient(app) as other:
        sign_in(other, attacker, clock)
        attacker_token = form_token(other, "/admin/account")
    response = web.post(
        "/admin/account/sign-out-everywhere",
        data={"csrf_token": attacker_token},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert form_token(web, "/admin/account") != attacker_token


def test_the_header_is_accepted_as_htmx_sends_it(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    person = set_up_person(sessions_of, faker_id)
    sign_in(web, person, clock)
    token = form_token(web, "/admin/account")
    response = web.post("/admin/logout", headers={"x-csrf-token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert _live_sessions(sessions_of) == 0


def test_the_sign_in_form_needs_its_cookie_bound_token(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    person = set_up_person(sessions_of, faker_id)
    data = {"email": person.email, "password": person.password}
    assert web.post("/admin/login", data=data).status_code == 403  # no cookie, no token
    token = form_token(web, "/admin/login")
    assert web.cookies.get("jd_csrf")
    with TestClient(web.app) as stranger:  # another browser, the same token
        stranger.get("/admin/login")
        response = stranger.post("/admin/login", data={**data, "csrf_token": token})
        assert response.status_code == 403
    response = web.post("/admin/login", data={**data, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303


def test_multipart_forms_carry_the_token_too(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    person = set_up_person(sessions_of, faker_id)
    token = form_token(web, "/admin/login")
    fields = {"email": person.email, "password": person.password, "csrf_token": token}
    response = web.post(
        "/admin/login", files={k: (None, v) for k, v in fields.items()}, follow_redirects=False
    )
    assert response.status_code == 303
    fields["csrf_token"] = "x"
    response = web.post("/admin/login", files={k: (None, v) for k, v in fields.items()})
    assert response.status_code == 403


def test_the_api_takes_no_csrf_token(web: TestClient) -> None:
    response = web.post("/api/v1/orgs/la-gelato-academy/api-key")
    assert response.status_code == 405  # reached the API's routing, not refused by CSRF
    assert response.headers["content-type"].startswith("application/json")
