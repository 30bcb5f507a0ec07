"""The role table, tried for real: each role signs in and attempts every protected action in
its own organisation (allowed exactly where the table says, else 403), and gets 404 for
everything of an organisation it does not belong to."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from accounts_helpers import MILLEALAB, Clock, add_member, set_up_person, sign_in
from faker import Faker
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.deps import Member, require_role
from jagadata.accounts.roles import ACTION_LABELS, PERMISSIONS, Action, Role, allowed
from jagadata.i18n import gettext

DOC = Path(__file__).resolve().parents[2] / "docs" / "accounts.md"


def _probe(action: Action) -> Callable[..., dict[str, str]]:
    def endpoint(member: Member = Depends(require_role(action))) -> dict[str, str]:
        return {"organisation": member.organisation.slug, "role": member.role.value}

    return endpoint


@pytest.fixture
def probed_app(app: FastAPI) -> FastAPI:
    """The app with one protected route per action, as the console's pages will declare them."""
    for action in Action:
        app.add_api_route(f"/admin/o/{{org}}/probe/{action.value}", _probe(action), methods=["GET"])
    return app


@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_take_exactly_the_actions_of_the_table(
    role: Role,
    probed_app: FastAPI,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    probed_app.state.clock = clock
    person = set_up_person(sessions_of, faker_id, role=role)
    with TestClient(probed_app) as client:
        sign_in(client, person, clock)
        outcomes = {}
        for action in Action:
            response = client.get(f"/admin/o/la-gelato-academy/probe/{action.value}")
            outcomes[action] = response.status_code
            if response.status_code == 200:
                assert response.json() == {"organisation": "la-gelato-academy", "role": role.value}
            other = client.get(f"/admin/o/{MILLEALAB}/probe/{action.value}")
            assert other.status_code == 404, action
        keys_page = client.get("/admin/o/la-gelato-academy/keys").status_code
    expected = {action: 200 if role in PERMISSIONS[action] else 403 for action in Action}
    assert outcomes == expected
    assert keys_page == (200 if allowed(role, Action.MANAGE_API_KEYS) else 403)


def test_a_user_of_two_organisations_has_each_ones_role(
    probed_app: FastAPI, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    probed_app.state.clock = clock
    rina = set_up_person(sessions_of, faker_id, role=Role.DPO)
    add_member(sessions_of, rina, org=MILLEALAB, role=Role.VIEWER)
    with TestClient(probed_app) as client:
        sign_in(client, rina, clock)
        audit = Action.VIEW_AUDIT_LOG.value
        assert client.get(f"/admin/o/la-gelato-academy/probe/{audit}").status_code == 200
        assert client.get(f"/admin/o/{MILLEALAB}/probe/{audit}").status_code == 403
        assert client.get(f"/admin/o/{MILLEALAB}/probe/view_dashboard").status_code == 200
        assert client.get("/admin/o/no-such-org/probe/view_dashboard").status_code == 404
        page = client.get("/admin/account").text
        assert "La Gelato Academy" in page


def test_signed_out_visitors_are_sent_to_sign_in(probed_app: FastAPI) -> None:
    with TestClient(probed_app) as client:
        response = client.get(
            "/admin/o/la-gelato-academy/probe/view_dashboard", follow_redirects=False
        )
        assert response.status_code == 303
        assert response.headers["location"] == (
            "/admin/login?next=/admin/o/la-gelato-academy/probe/view_dashboard"
        )
        htmx = client.get(
            "/admin/o/la-gelato-academy/probe/view_dashboard", headers={"hx-request": "true"}
        )
        assert htmx.status_code == 401 and htmx.headers["hx-redirect"].startswith("/admin/login")


def test_every_action_has_a_label_in_every_language() -> None:
    assert set(ACTION_LABELS) == set(Action) == set(PERMISSIONS)
    for label in ACTION_LABELS.values():
        assert gettext("id", label, "accounts") != label


def test_the_documented_table_is_the_table_in_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z_]+)` \|[^|]*\|(.*)\|\s*$", text, flags=re.MULTILINE)
    documented = {}
    for action, cells in rows:
        marks = [cell.strip() for cell in cells.split("|")]
        documented[action] = frozenset(
            role for role, mark in zip(Role, marks, strict=True) if mark == "✓"
        )
    assert documented == {action.value: roles for action, roles in PERMISSIONS.items()}
