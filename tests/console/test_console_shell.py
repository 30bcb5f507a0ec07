"""The console's shell: where /admin/ lands, the organisation switcher (only the person's own
organisations, with their role, searchable for Rina's twenty clients), the language, and pages
that a strict Content-Security-Policy lets run as they are."""

from __future__ import annotations

import json
import re
import secrets

import pytest
from accounts_helpers import GELATO, MILLEALAB, Clock, add_member, set_up_person, sign_in
from console_helpers import PAGES, csp_problems, signed_in
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.models import User
from jagadata.accounts.roles import ROLE_LABELS, Role
from jagadata.accounts.service import add_user
from jagadata.audit.service import Actor
from jagadata.console.nav import SEARCH_FROM
from jagadata.console.render import HTMX_CONFIG, STATIC_DIR
from jagadata.db import atomic, utcnow
from jagadata.i18n import gettext
from jagadata.orgs.models import Organisation

SWITCHER = re.compile(r'<ul id="switcher-list".*?</ul>', re.DOTALL)


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "console")


def _switcher(html: str) -> str:
    found = SWITCHER.search(html)
    assert found, "no organisation switcher on the page"
    return found.group(0)


def _organisations(factory: sessionmaker[Session], faker: Faker, count: int) -> list[str]:
    slugs = []
    with factory() as session, atomic(session):
        for _ in range(count):
            slug = f"klien-{secrets.token_hex(4)}"
            session.add(Organisation(slug=slug, name=faker.company(), created_at=utcnow()))
            slugs.append(slug)
    return slugs


def _join(factory: sessionmaker[Session], user_id: int, slugs: list[str], role: Role) -> None:
    with factory() as session, atomic(session):
        user = session.get(User, user_id)
        assert user is not None
        for slug in slugs:
            organisation = session.query(Organisation).filter_by(slug=slug).one()
            add_user(session=session, email=user.email, organisation=organisation, role=role,
                     actor=Actor.system("test"))  # fmt: skip


def test_one_organisation_lands_on_its_home(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.VIEWER)
    response = web.get("/admin/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/o/{GELATO}/"


def test_two_organisations_get_a_chooser_then_the_last_one_used(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    rina = set_up_person(sessions_of, faker_id, role=Role.DPO)
    add_member(sessions_of, rina, org=MILLEALAB, role=Role.STAFF)
    sign_in(web, rina, clock)
    chooser = web.get("/admin/", follow_redirects=False)
    assert chooser.status_code == 200
    assert f'href="/admin/o/{GELATO}/"' in chooser.text
    assert f'href="/admin/o/{MILLEALAB}/"' in chooser.text
    assert web.get(f"/admin/o/{MILLEALAB}/").status_code == 200
    back = web.get("/admin/", follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == f"/admin/o/{MILLEALAB}/"


def test_the_switcher_lists_only_the_persons_organisations_with_their_roles(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    strangers = _organisations(sessions_of, faker_id, 2)
    signed_in(web, sessions_of, faker_id, clock, role=Role.DPO, also={MILLEALAB: Role.VIEWER})
    page = web.get(f"/admin/o/{GELATO}/", headers={"accept-language": "en"}).text
    switcher = _switcher(page)
    listed = re.findall(r'href="/admin/o/([a-z0-9-]+)/"', switcher)
    assert sorted(listed) == sorted([GELATO, MILLEALAB])
    assert not any(slug in page for slug in strangers)
    assert ROLE_LABELS[Role.DPO] in switcher and ROLE_LABELS[Role.VIEWER] in switcher
    assert f'href="/admin/o/{GELATO}/" aria-current="true"' in switcher
    assert 'id="switcher-q"' not in page, "no search box for two organisations"


def test_rina_with_twenty_clients_can_search_the_switcher(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    rina = set_up_person(sessions_of, faker_id, role=Role.DPO)
    clients = _organisations(sessions_of, faker_id, 19)
    _join(sessions_of, rina.id, clients, Role.DPO)
    assert 1 + len(clients) >= SEARCH_FROM
    sign_in(web, rina, clock)
    page = web.get(f"/admin/o/{clients[0]}/").text
    assert 'id="switcher-q"' in page
    assert len(re.findall(r'href="/admin/o/[a-z0-9-]+/"', _switcher(page))) == 20
    wanted = clients[7]
    found = web.get(
        "/admin/organisations",
        params={"q": wanted.upper()},
        headers={"hx-request": "true", "hx-target": "switcher-list"},
    )
    assert found.text.lstrip().startswith('<ul id="switcher-list"'), "a fragment, not a page"
    assert re.findall(r'href="/admin/o/([a-z0-9-]+)/"', found.text) == [wanted]
    without_script = web.get("/admin/organisations", params={"q": wanted})
    assert "<html" in without_script.text and f'href="/admin/o/{wanted}/"' in without_script.text
    assert f'href="/admin/o/{clients[8]}/">' not in without_script.text.split("<main")[1]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_under_the_strict_csp(
    page: str,
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.OWNER, also={MILLEALAB: Role.DPO})
    response = web.get(f"/admin/o/{GELATO}/{page}")
    assert response.status_code == 200
    html = response.text
    assert csp_problems(html) == []
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert response.headers["cache-control"] == "no-store"
    assert f"<meta name=\"htmx-config\" content='{HTMX_CONFIG}'>" in html
    assert json.loads(HTMX_CONFIG)["includeIndicatorStyles"] is False
    headers = re.search(r"<body hx-headers='([^']+)'>", html)
    assert headers is not None
    assert (
        json.loads(headers.group(1))["X-CSRF-Token"]
        == re.findall(r'name="csrf_token" value="([^"]+)"', html)[0]
    )
    assert '<script src="/static/console/htmx.min.js" defer></script>' in html
    assert '<main id="main"' in html and '<nav class="sections"' in html


def test_the_chooser_runs_under_the_strict_csp_and_htmx_is_served_from_here(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.DPO, also={MILLEALAB: Role.DPO})
    for page in ("/admin/organisations", "/admin/account", f"/admin/o/{GELATO}/nothing-here"):
        assert csp_problems(web.get(page).text) == [], page
    web.cookies.clear()
    assert csp_problems(web.get("/admin/login").text) == []
    script = web.get("/static/console/htmx.min.js")
    assert script.status_code == 200
    assert script.content == (STATIC_DIR / "htmx.min.js").read_bytes()
    assert b'version:"2.' in script.content
    assert web.get("/static/console/console.css").status_code == 200
    assert web.get("/static/centre.css").status_code == 200, "the centre's files still served"


def test_the_console_is_indonesian_unless_the_person_chooses_english(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock)
    web.cookies.delete("lang")
    home = f"/admin/o/{GELATO}/"
    indonesian = web.get(home).text
    assert '<html lang="id">' in indonesian
    assert _t("id", "Needs attention") in indonesian and _t("id", "Needs attention") != (
        "Needs attention"
    )
    chosen = web.get(home, params={"lang": "en"})
    assert '<html lang="en">' in chosen.text and "Needs attention" in chosen.text
    assert web.cookies.get("lang") == "en"
    assert '<html lang="en">' in web.get(f"/admin/o/{GELATO}/manifest").text
    french = web.get(home, params={"lang": "fr"})
    assert '<html lang="en">' in french.text, "no French console: the choice kept stands"
    web.cookies.delete("lang")
    french = web.get(home, params={"lang": "fr"}, headers={"accept-language": "fr-FR, fr"})
    assert '<html lang="id">' in french.text, "the console speaks Indonesian and English"


def test_signed_out_visitors_are_sent_to_sign_in_and_back(web: TestClient) -> None:
    for path in ("/admin/", f"/admin/o/{GELATO}/audit", "/admin/organisations"):
        response = web.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/admin/login?next={path}"


def test_another_organisations_pages_answer_404_like_an_unknown_one(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.OWNER)
    for page in PAGES:
        theirs = web.get(f"/admin/o/{MILLEALAB}/{page}")
        unknown = web.get(f"/admin/o/tidak-ada/{page}")
        assert theirs.status_code == unknown.status_code == 404, page
    assert web.get(f"/admin/o/{GELATO}/manifest/99").status_code == 404


def test_a_features_page_keeps_its_own_catalogue_inside_the_shell() -> None:
    """A later feature renders with its own catalogue; the shell's texts still come from the
    console's (here the accounts catalogue stands in for a feature's)."""
    from jagadata.console.render import environment

    env = environment("id", "accounts")
    shown = env.from_string("{{ _('Needs attention') }}|{{ _('Sign out everywhere') }}").render()
    assert shown == "|".join(
        (_t("id", "Needs attention"), gettext("id", "Sign out everywhere", "accounts"))
    )
    assert "Sign out everywhere" not in shown
    assert "accounts/login.html" in env.list_templates(), "templates found in every package"
