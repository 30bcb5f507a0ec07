"""People and roles from the console: an owner adds a person (a new one gets a one-time link,
shown once, or sent through the outbox when email is set up), changes a role, removes a person,
never the last owner; each change is in the audit trail."""

from __future__ import annotations

import re

import pytest
from accounts_helpers import GELATO, MILLEALAB, Clock, audit_actions, organisation_id
from console_helpers import signed_in, token_of
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts import service
from jagadata.accounts.roles import Role
from jagadata.db.tenancy import cross_organisation_session
from jagadata.notify.models import OutboxMessage

PAGE = f"/admin/o/{GELATO}/people"
LINK = re.compile(r'<code id="sign-in-link">http://testserver/admin/welcome/([A-Za-z0-9_-]{43})<')


def _post(web: TestClient, path: str, **data: str) -> Response:
    return web.post(
        path, data={"csrf_token": token_of(web.get(PAGE).text), **data}, follow_redirects=False
    )


def _role_of(factory: sessionmaker[Session], user_id: int, org: str = GELATO) -> str | None:
    with factory() as session:
        found = service.membership(
            session=session, user_id=user_id, organisation_id=organisation_id(factory, org)
        )
        return found.role if found else None


def test_an_owner_adds_a_new_person_who_gets_a_link_shown_once(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    owner = signed_in(web, sessions_of, faker_id, clock)
    email = faker_id.unique.email()
    response = _post(web, PAGE, email=email.upper(), role="staff", name=faker_id.name())
    assert response.status_code == 200
    link = LINK.search(response.text)
    assert link is not None
    assert web.get(f"/admin/welcome/{link.group(1)}").status_code == 200, "the link works"
    listing = web.get(PAGE).text
    assert email in listing and link.group(1) not in listing
    with sessions_of() as session:
        user = service.find_user(session=session, email=email)
        assert user is not None
    assert _role_of(sessions_of, user.id) == "staff"
    org_actions = [e for e in audit_actions(sessions_of, organisation_id(sessions_of, GELATO))]
    added = [e for e in org_actions if e.action == "membership.added" and
             e.target_id == str(user.id)]  # fmt: skip
    assert len(added) == 1 and added[0].actor_id == str(owner.id)
    issued = [e for e in audit_actions(sessions_of) if e.action == "user.sign_in_link_issued"]
    assert issued[-1].target_id == str(user.id) and issued[-1].actor_id == str(owner.id)
    again = _post(web, PAGE, email=email, role="viewer")
    assert again.status_code == 409 and _role_of(sessions_of, user.id) == "staff"
    assert _post(web, PAGE, email="bukan-email", role="staff").status_code == 422
    assert _post(web, PAGE, email=faker_id.unique.email(), role="admin").status_code == 422


def test_with_email_set_up_the_link_goes_through_the_outbox(
    app: FastAPI,
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": 2525}
    )
    signed_in(web, sessions_of, faker_id, clock)
    email = faker_id.unique.email()
    response = _post(web, PAGE, email=email, role="dpo")
    assert response.status_code == 200
    assert LINK.search(response.text) is None and email in response.text
    with cross_organisation_session(sessions_of) as session:
        messages = session.scalars(select(OutboxMessage)).all()
    assert len(messages) == 1
    assert messages[0].recipient == email and messages[0].channel == "email"
    assert messages[0].organisation_id == organisation_id(sessions_of, GELATO)
    assert "/admin/welcome/" in messages[0].payload["text"]


def test_roles_change_and_people_leave_but_the_last_owner_stays(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    owner = signed_in(web, sessions_of, faker_id, clock)
    added = _post(web, PAGE, email=faker_id.unique.email(), role="staff")
    staff_id = int(re.findall(r'data-user="(\d+)"', added.text)[-1])
    assert staff_id != owner.id
    changed = _post(web, f"{PAGE}/{staff_id}/role", role="dpo")
    assert changed.status_code == 303 and changed.headers["location"] == f"{PAGE}?done=role"
    assert _role_of(sessions_of, staff_id) == "dpo"
    refused = _post(web, f"{PAGE}/{owner.id}/role", role="viewer")
    assert refused.status_code == 409 and _role_of(sessions_of, owner.id) == "owner"
    assert _post(web, f"{PAGE}/{owner.id}/remove").status_code == 409
    removed = _post(web, f"{PAGE}/{staff_id}/remove")
    assert removed.status_code == 303 and _role_of(sessions_of, staff_id) is None
    assert _post(web, f"{PAGE}/{staff_id}/remove").status_code == 404
    actions = [e.action for e in audit_actions(sessions_of, organisation_id(sessions_of, GELATO))]
    assert actions[-2:] == ["membership.changed", "membership.removed"]


def test_a_person_of_other_organisations_gets_no_link_from_this_owner(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    """An owner of one client must not be able to take over Rina's account (and with it her
    other clients) by issuing her a new link they can read."""
    from accounts_helpers import set_up_person

    rina = set_up_person(sessions_of, faker_id, org=MILLEALAB, role=Role.DPO)
    signed_in(web, sessions_of, faker_id, clock)
    added = _post(web, PAGE, email=rina.email, role="dpo")
    assert added.status_code == 200 and LINK.search(added.text) is None
    links = _post(web, f"{PAGE}/{rina.id}/link")
    assert links.status_code == 200
    assert LINK.search(links.text) is None and 'id="invitation"' in links.text
    assert f"jagadata user link {rina.email}" in links.text


@pytest.mark.parametrize("role", [Role.DPO, Role.STAFF, Role.VIEWER])
def test_only_owners_change_people(
    role: Role,
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    person = signed_in(web, sessions_of, faker_id, clock, role=role)
    page = web.get(PAGE)
    assert page.status_code == 200 and person.email in page.text
    assert 'id="add-email"' not in page.text
    assert _post(web, PAGE, email=faker_id.unique.email(), role="owner").status_code == 403
    assert _post(web, f"{PAGE}/{person.id}/role", role="owner").status_code == 403
    assert _role_of(sessions_of, person.id) == role.value
