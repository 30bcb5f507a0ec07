"""Every console page and form, tried with every role: allowed exactly where the role table
(jagadata.accounts.roles.PERMISSIONS) says, 403 elsewhere; the navigation offers only what the
role may open."""

from __future__ import annotations

import re

import pytest
from accounts_helpers import GELATO, Clock, organisation_id
from console_helpers import signed_in, token_of
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.roles import Action, Role, allowed
from jagadata.db import atomic
from jagadata.notify.models import OutboxMessage, OutboxStatus
from jagadata.notify.service import enqueue_webhook

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PAGES = {
    "": Action.VIEW_DASHBOARD,
    "manifest": Action.VIEW_DASHBOARD,
    "manifest/1": Action.VIEW_DASHBOARD,
    "policies": Action.VIEW_DASHBOARD,
    "people": Action.VIEW_DASHBOARD,
    "keys": Action.MANAGE_API_KEYS,
    "audit": Action.VIEW_AUDIT_LOG,
    "outbox": Action.VIEW_DASHBOARD,
}
FORMS = {
    "manifest": Action.EDIT_MANIFEST,
    "people": Action.MANAGE_USERS,
    "people/{me}/role": Action.MANAGE_USERS,
    "people/{me}/link": Action.MANAGE_USERS,
    "people/{me}/remove": Action.MANAGE_USERS,
    "keys": Action.MANAGE_API_KEYS,
    "audit/export": Action.EXPORT_AUDIT_LOG,
    "outbox/{dead}/recipient": Action.VIEW_PERSONAL_DATA,
    "outbox/{dead}/retry": Action.HANDLE_REQUESTS,
}
SECTION_LINKS = {"keys": Action.MANAGE_API_KEYS, "audit": Action.VIEW_AUDIT_LOG}


def _dead_letter(factory: sessionmaker[Session], org: int) -> int:
    with factory() as session, atomic(session):
        message = enqueue_webhook(
            session=session,
            organisation_id=org,
            url="https://hooks.example/jagadata",
            event="test.event",
            payload={"n": 1},
            secret="s" * 32,
        )
        session.flush()
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(status=OutboxStatus.DEAD.value, attempts=6, last_error="HTTP 410")
        )
        return message.id


@pytest.mark.parametrize("role", list(Role))
def test_each_role_opens_exactly_the_pages_and_forms_of_the_table(
    role: Role,
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    dead = _dead_letter(sessions_of, organisation_id(sessions_of, GELATO))
    person = signed_in(web, sessions_of, faker_id, clock, role=role)
    pages = {page: web.get(f"/admin/o/{GELATO}/{page}").status_code for page in PAGES}
    assert pages == {page: 200 if allowed(role, action) else 403 for page, action in PAGES.items()}
    token = token_of(web.get(f"/admin/o/{GELATO}/").text)
    forms = {}
    for form in FORMS:
        path = f"/admin/o/{GELATO}/" + form.format(me=person.id, dead=dead)
        response = web.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code not in (404, 500), (form, response.status_code)
        forms[form] = response.status_code != 403
    assert forms == {form: allowed(role, action) for form, action in FORMS.items()}


@pytest.mark.parametrize("role", list(Role))
def test_the_navigation_offers_only_what_the_role_may_open(
    role: Role,
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=role)
    page = web.get(f"/admin/o/{GELATO}/").text
    navigation = re.search(r'<nav class="sections".*?</nav>', page, re.DOTALL)
    assert navigation is not None
    links = set(re.findall(rf'href="/admin/o/{GELATO}/([a-z]*)"', navigation.group(0)))
    assert {"", "manifest", "policies", "people", "outbox"} <= links
    for section, action in SECTION_LINKS.items():
        assert (section in links) == allowed(role, action), section
    people = web.get(f"/admin/o/{GELATO}/people").text
    assert ("/remove" in people) == allowed(role, Action.MANAGE_USERS)
    manifest = web.get(f"/admin/o/{GELATO}/manifest").text
    assert ('name="manifest" type="file"' in manifest) == allowed(role, Action.EDIT_MANIFEST)
