"""Helpers for accounts tests: a clock tests move by hand, users who have set up their
account (password and TOTP) through the same one-time link a real person uses, and the app
served for a real browser."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts import service, totp
from jagadata.accounts.models import User
from jagadata.accounts.roles import Role
from jagadata.audit.service import Actor
from jagadata.db import atomic
from jagadata.orgs.service import get_organisation

START = datetime(2026, 11, 23, 9, 0, 7, tzinfo=UTC)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
GELATO = "la-gelato-academy"
MILLEALAB = "millealab"


class Clock:
    """The app's clock (`app.state.clock`): tests move it instead of sleeping."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Person:
    """A console user the test created: their email, password and TOTP secret in clear."""

    id: int
    email: str
    password: str
    secret: str
    recovery_codes: list[str]

    def code(self, moment: datetime) -> str:
        return totp.code_at(self.secret, moment)


def new_password(faker: Faker) -> str:
    return "-".join(faker.words(5)) + str(faker.random_int(10, 99))


def set_up_person(
    factory: sessionmaker[Session],
    faker: Faker,
    *,
    org: str = GELATO,
    role: Role = Role.OWNER,
    now: datetime = START - timedelta(hours=1),
    email: str | None = None,
) -> Person:
    """A user added to `org` who has used their one-time link (password + TOTP enrolled)."""
    email = email or faker.unique.email()
    password = new_password(faker)
    with factory() as session:
        organisation = get_organisation(session=session, slug=org)
        assert organisation is not None
        with atomic(session):
            user, _ = service.add_user(
                session=session,
                email=email,
                organisation=organisation,
                role=role,
                actor=Actor.system("test"),
                now=now,
            )
            token = service.issue_sign_in_link(
                session=session, user=user, actor=Actor.system("test"), now=now
            )
        with atomic(session):
            link = service.open_sign_in_link(session=session, token=token, now=now)
            secret = link.pending_totp_secret
            assert secret is not None
            _, codes = service.complete_sign_in_link(
                session=session,
                token=token,
                password=password,
                code=totp.code_at(secret, now),
                now=now,
            )
        return Person(user.id, email, password, secret, codes)


def add_member(factory: sessionmaker[Session], person: Person, *, org: str, role: Role) -> None:
    with factory() as session:
        organisation = get_organisation(session=session, slug=org)
        user = session.get(User, person.id)
        assert organisation is not None and user is not None
        with atomic(session):
            service.add_user(
                session=session,
                email=user.email,
                organisation=organisation,
                role=role,
                actor=Actor.system("test"),
            )


def sign_in(client: TestClient, person: Person, clock: Clock, *, next_path: str = "") -> str:
    """Sign in through the pages (password, then the TOTP code of a fresh time step);
    returns where the browser was sent."""
    client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={
            "email": person.email,
            "password": person.password,
            "next": next_path,
            "csrf_token": form_token(client, "/admin/login"),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    clock.advance(seconds=30)
    verify = response.headers["location"]
    response = client.post(
        "/admin/login/verify",
        data={
            "code": person.code(clock.now),
            "next": next_path,
            "csrf_token": form_token(client, verify),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client: TestClient, path: str) -> str:
    """The CSRF token a page's forms carry, read from the page as a browser would."""
    page = client.get(path)
    found = _TOKEN.search(page.text)
    assert found, f"no form with a CSRF token on {path} ({page.status_code})"
    return found.group(1)


def audit_actions(factory: sessionmaker[Session], organisation_id: int | None = None) -> list[Any]:
    """The audit entries of one chain (None: sign-ins and other entries of no organisation)."""
    from sqlalchemy import select

    from jagadata.audit.models import AuditEntry
    from jagadata.db.tenancy import cross_organisation_session

    with cross_organisation_session(factory) as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if organisation_id is None:
            query = query.where(AuditEntry.organisation_id.is_(None))
        else:
            query = query.where(AuditEntry.organisation_id == organisation_id)
        return list(session.scalars(query))


def organisation_id(factory: sessionmaker[Session], slug: str) -> int:
    with factory() as session:
        organisation = get_organisation(session=session, slug=slug)
        assert organisation is not None
        return organisation.id


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free port, in a background thread; yields its address."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(600):  # up to 30 s
            if server.started or not thread.is_alive():
                break
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
