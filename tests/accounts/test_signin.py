"""Signing in through the pages: password then TOTP, cookies a script cannot read, nothing that
tells whether an account exists, lockout with back-off, codes that work once."""

from __future__ import annotations

from accounts_helpers import (
    Clock,
    Person,
    audit_actions,
    form_token,
    new_password,
    set_up_person,
    sign_in,
)
from argon2 import PasswordHasher, Type
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts import service
from jagadata.accounts.models import User
from jagadata.accounts.roles import Role
from jagadata.audit.service import Actor
from jagadata.db import atomic
from jagadata.i18n import gettext
from jagadata.orgs.service import get_organisation
from jagadata.web.app import create_app

WRONG = "The email or the password is not right. Check both and try again."


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "accounts")


def _password_attempt(client: TestClient, email: str, password: str) -> tuple[int, str]:
    response = client.post(
        "/admin/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": form_token(client, "/admin/login"),
        },
        follow_redirects=False,
    )
    return response.status_code, response.text


def _second_factor(client: TestClient, code: str) -> int:
    response = client.post(
        "/admin/login/verify",
        data={"code": code, "csrf_token": form_token(client, "/admin/login/verify")},
        follow_redirects=False,
    )
    return response.status_code


def test_an_owner_signs_in_with_password_and_totp(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    person = set_up_person(sessions_of, faker_id)
    assert web.get("/admin/account", follow_redirects=False).headers["location"] == (
        "/admin/login?next=/admin/account"
    )
    status, _ = _password_attempt(web, person.email, person.password)
    assert status == 303
    assert web.get("/admin/account", follow_redirects=False).status_code == 303  # not yet
    clock.advance(seconds=30)
    assert _second_factor(web, person.code(clock.now)) == 303
    page = web.get("/admin/account")
    assert page.status_code == 200
    assert person.email in page.text
    assert page.headers["cache-control"] == "no-store"
    entries = audit_actions(sessions_of)
    signed_in = [e for e in entries if e.action == "user.signed_in"]
    assert len(signed_in) == 1
    assert signed_in[0].actor_id == str(person.id)
    assert signed_in[0].details["method"] == "totp"


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(
    settings: object, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    secure_settings = settings.model_copy(update={"base_url": "https://jagadata.example"})  # type: ignore[attr-defined]
    secure_app: FastAPI = create_app(secure_settings)
    clock = Clock()
    secure_app.state.clock = clock
    person = set_up_person(secure_app.state.sessions, faker_id)
    with TestClient(secure_app, base_url="https://testserver") as client:
        client.get("/admin/login")
        status, _ = _password_attempt(client, person.email, person.password)
        assert status == 303
        clock.advance(seconds=30)
        response = client.post(
            "/admin/login/verify",
            data={
                "code": person.code(clock.now),
                "csrf_token": form_token(client, "/admin/login/verify"),
            },
            follow_redirects=False,
        )
        signed_out = client.post(
            "/admin/logout",
            data={"csrf_token": form_token(client, "/admin/account")},
            follow_redirects=False,
        )
    forgotten = signed_out.headers["set-cookie"].lower()
    assert forgotten.startswith("__host-jd_session=") and "secure" in forgotten
    assert "max-age=0" in forgotten
    cookies = [c for c in response.headers.get_list("set-cookie") if "jd_session=" in c]
    assert len(cookies) == 1
    cookie = cookies[0].lower()
    assert cookie.startswith("__host-jd_session=")
    for attribute in ("httponly", "samesite=lax", "secure", "path=/"):
        assert attribute in cookie
    assert "domain=" not in cookie


def test_plain_http_cookies_are_httponly_and_lax(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    person = set_up_person(sessions_of, faker_id)
    web.get("/admin/login")
    response = web.post(
        "/admin/login",
        data={
            "email": person.email,
            "password": person.password,
            "csrf_token": form_token(web, "/admin/login"),
        },
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("jd_pending=") and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie


def test_nothing_tells_whether_an_account_exists(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    person = set_up_person(sessions_of, faker_id)
    never_set_up = faker_id.unique.email()
    with sessions_of() as session:
        organisation = get_organisation(session=session, slug="la-gelato-academy")
        assert organisation is not None
        with atomic(session):
            service.add_user(
                session=session,
                email=never_set_up,
                organisation=organisation,
                role=Role.STAFF,
                actor=Actor.system("test"),
            )
    unknown_email = faker_id.unique.email()
    web.get("/admin/login", headers={"accept-language": "id"})
    answers = {
        "wrong password": _password_attempt(web, person.email, person.password + "!"),
        "unknown email": _password_attempt(web, unknown_email, person.password),
        "not set up": _password_attempt(web, never_set_up, person.password),
        "not an email": _password_attempt(web, "bukan-email", person.password),
    }
    assert len(set(answers.values())) == 1, answers
    status, text = answers["unknown email"]
    assert status == 401
    assert _t("id", WRONG) in text and _t("id", WRONG) != WRONG
    failures = [e for e in audit_actions(sessions_of) if e.action == "user.sign_in_failed"]
    assert len(failures) == 4
    for entry in failures:
        text_of_entry = repr((entry.actor_id, entry.target_id, entry.subject_ref, entry.details))
        assert "@" not in text_of_entry
    unknown = failures[1]
    assert unknown.target_id is None
    with sessions_of() as session:
        assert unknown.subject_ref == service.email_hash(unknown_email)
        assert service.find_user(session=session, email=unknown_email) is None


def test_five_wrong_passwords_lock_the_account_then_back_off(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    person = set_up_person(sessions_of, faker_id)
    for _ in range(5):
        assert _password_attempt(web, person.email, "salah-" + new_password(faker_id))[0] == 401
    status, text = _password_attempt(web, person.email, person.password)
    assert status == 429
    assert "1" in text
    clock.advance(minutes=1)
    for _ in range(5):
        assert _password_attempt(web, person.email, "salah-" + new_password(faker_id))[0] == 401
    clock.advance(minutes=1)
    assert _password_attempt(web, person.email, person.password)[0] == 429  # now two minutes
    clock.advance(minutes=1)
    assert _password_attempt(web, person.email, person.password)[0] == 303


def test_an_unknown_email_is_locked_the_same_way(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    set_up_person(sessions_of, faker_id)
    unknown = faker_id.unique.email()
    for _ in range(5):
        assert _password_attempt(web, unknown, "apa saja kata sandinya")[0] == 401
    assert _password_attempt(web, unknown, "apa saja kata sandinya")[0] == 429


def test_a_success_resets_the_count(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    person = set_up_person(sessions_of, faker_id)
    for _ in range(4):
        _password_attempt(web, person.email, "keliru sekali ya")
    sign_in(web, person, clock)
    for _ in range(4):
        assert _password_attempt(web, person.email, "keliru sekali ya")[0] == 401
    assert _password_attempt(web, person.email, person.password)[0] == 303


def test_a_totp_code_works_once(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    person = set_up_person(sessions_of, faker_id)
    _password_attempt(web, person.email, person.password)
    code = person.code(clock.now)
    assert _second_factor(web, code) == 303
    web.cookies.clear()
    web.get("/admin/login")
    _password_attempt(web, person.email, person.password)
    clock.advance(seconds=10)  # same 30-second step
    assert _second_factor(web, code) == 401


def test_wrong_codes_end_the_attempt_after_five(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    person = set_up_person(sessions_of, faker_id)
    _password_attempt(web, person.email, person.password)
    right = person.code(clock.now)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert _second_factor(web, wrong) == 401
    assert _second_factor(web, wrong) == 303  # locked: back to the start
    assert web.get("/admin/login/verify", follow_redirects=False).status_code == 303
    _password_attempt(web, person.email, person.password)
    pending_token = web.cookies.get("jd_pending")
    assert pending_token
    response = web.post(
        "/admin/login/verify",
        data={"code": right, "csrf_token": form_token(web, "/admin/login/verify")},
        follow_redirects=False,
    )
    assert response.status_code == 429
    assert response.headers["retry-after"] == "60"
    web.cookies.set("jd_pending", pending_token)
    assert web.get("/admin/login/verify", follow_redirects=False).status_code == 303


def test_a_recovery_code_signs_in_once(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    person = set_up_person(sessions_of, faker_id)
    assert len(person.recovery_codes) == 10 and len(set(person.recovery_codes)) == 10
    code = person.recovery_codes[3]
    _password_attempt(web, person.email, person.password)
    assert _second_factor(web, code.upper().replace("-", " ")) == 303
    signed_in = [e for e in audit_actions(sessions_of) if e.action == "user.signed_in"]
    assert signed_in[-1].details == {
        "method": "recovery_code",
        "recovery_codes_left": 9,
        "session": signed_in[-1].details["session"],
    }
    web.cookies.clear()
    web.get("/admin/login")
    _password_attempt(web, person.email, person.password)
    assert _second_factor(web, code) == 401
    assert _second_factor(web, person.recovery_codes[4]) == 303


def test_a_password_hashed_with_older_parameters_is_rehashed_at_sign_in(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    person = set_up_person(sessions_of, faker_id)
    older = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)
    with sessions_of() as session, atomic(session):
        user = session.get(User, person.id)
        assert user is not None
        user.password_hash = older.hash(person.password)
    _password_attempt(web, person.email, person.password)
    with sessions_of() as session:
        user = session.get(User, person.id)
        assert user is not None and user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=1$")


def test_after_sign_in_only_console_paths_are_followed(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    person: Person = set_up_person(sessions_of, faker_id)
    assert sign_in(web, person, clock, next_path="https://evil.example/") == "/admin/"
    web.cookies.clear()
    assert sign_in(web, person, clock, next_path="//evil.example/admin/") == "/admin/"
    web.cookies.clear()
    assert sign_in(web, person, clock, next_path="/admin/account?tab=1") == "/admin/account?tab=1"


def test_sign_in_lands_on_the_console_home(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    person = set_up_person(sessions_of, faker_id)
    assert sign_in(web, person, clock) == "/admin/"
    home = web.get("/admin/", follow_redirects=False)
    assert home.headers["location"] == "/admin/o/la-gelato-academy/"  # her only organisation


def test_the_language_chosen_on_the_sign_in_page_is_kept(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    person = set_up_person(sessions_of, faker_id)
    assert 'lang="id"' in web.get("/admin/login").text.split(">", 2)[1]
    english = web.get("/admin/login?lang=en")
    assert '<html lang="en">' in english.text and web.cookies.get("lang") == "en"
    _password_attempt(web, person.email, person.password)
    verify = web.get("/admin/login/verify")
    assert '<html lang="en">' in verify.text
    assert "The 6-digit code from your authenticator app" in verify.text
    french = web.get("/admin/login/verify?lang=fr").text
    assert _t("fr", "Two-step verification") in french and '<html lang="fr">' in french
