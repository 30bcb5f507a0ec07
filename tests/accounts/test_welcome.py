"""The one-time link: a person sets a password and enrols TOTP in one step; the link works
once, for 24 hours, and only the newest one works."""

from __future__ import annotations

import re

import pytest
from accounts_helpers import (
    GELATO,
    START,
    Clock,
    audit_actions,
    form_token,
    new_password,
    organisation_id,
)
from faker import Faker
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts import service, totp
from jagadata.accounts.models import User
from jagadata.accounts.roles import Role
from jagadata.audit.service import Actor
from jagadata.db import atomic
from jagadata.orgs.service import get_organisation

SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')


def _new_owner(factory: sessionmaker[Session], email: str) -> str:
    with factory() as session:
        organisation = get_organisation(session=session, slug=GELATO)
        assert organisation is not None
        with atomic(session):
            user, created = service.add_user(
                session=session,
                email=email,
                organisation=organisation,
                role=Role.OWNER,
                actor=Actor.system("test"),
                now=START,
            )
            assert created and user.password_hash is None
            return service.issue_sign_in_link(
                session=session, user=user, actor=Actor.system("test"), now=START
            )


def _secret(page: str) -> str:
    found = SECRET.search(page)
    assert found, page
    return found.group(1).replace(" ", "")


def _submit(client: TestClient, token: str, password: str, again: str, code: str) -> Response:
    return client.post(
        f"/admin/welcome/{token}",
        data={
            "password": password,
            "password_again": again,
            "code": code,
            "csrf_token": form_token(client, "/admin/login"),
        },
    )


def test_the_link_sets_password_and_totp_then_works_no_more(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    email = faker_id.unique.email()
    token = _new_owner(sessions_of, email)
    page = web.get(f"/admin/welcome/{token}")
    assert page.status_code == 200 and "<svg" in page.text and email in page.text
    secret = _secret(page.text)
    assert _secret(web.get(f"/admin/welcome/{token}").text) == secret  # same QR on reload
    password = new_password(faker_id)
    done = _submit(web, token, password, password, totp.code_at(secret, clock.now))
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.text)
    assert len(codes) == 10
    assert web.get(f"/admin/welcome/{token}").status_code == 404
    again = _submit(web, token, password, password, totp.code_at(secret, clock.now))
    assert again.status_code == 404
    enrolled = [e for e in audit_actions(sessions_of) if e.action == "user.mfa_enrolled"]
    assert len(enrolled) == 1 and enrolled[0].details["first_time"] is True
    org_actions = [
        e.action for e in audit_actions(sessions_of, organisation_id(sessions_of, GELATO))
    ]
    assert org_actions.count("user.added") == 1 and "membership.added" in org_actions


@pytest.mark.parametrize("problem", ["short", "different", "wrong code"])
def test_mistakes_are_explained_and_the_link_still_works(
    problem: str,
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    token = _new_owner(sessions_of, faker_id.unique.email())
    secret = _secret(web.get(f"/admin/welcome/{token}").text)
    password = new_password(faker_id)
    code = totp.code_at(secret, clock.now)
    if problem == "short":
        response = _submit(web, token, "pendek", "pendek", code)
    elif problem == "different":
        response = _submit(web, token, password, password + "x", code)
    else:
        wrong = f"{(int(code) + 500_000) % 1_000_000:06d}"
        response = _submit(web, token, password, password, wrong)
    assert response.status_code == 422
    assert 'id="setup-error"' in response.text
    assert _secret(response.text) == secret
    assert _submit(web, token, password, password, code).status_code == 200


def test_a_link_expires_after_24_hours(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    token = _new_owner(sessions_of, faker_id.unique.email())
    clock.now = START + service.SIGN_IN_LINK_LIFETIME
    assert web.get(f"/admin/welcome/{token}").status_code == 404


def test_a_new_link_replaces_the_old_one(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    email = faker_id.unique.email()
    old = _new_owner(sessions_of, email)
    with sessions_of() as session, atomic(session):
        user = service.find_user(session=session, email=email)
        assert isinstance(user, User)
        new = service.issue_sign_in_link(session=session, user=user, actor=Actor.system("test"))
    assert web.get(f"/admin/welcome/{old}").status_code == 404
    assert web.get(f"/admin/welcome/{new}").status_code == 200
    assert web.get("/admin/welcome/bukan-token").status_code == 404
