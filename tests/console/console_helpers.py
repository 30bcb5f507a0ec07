"""Helpers for the console's tests: signing in with a role, the example manifest changed as a
test needs, reading a page's HTML the way a browser and the CSP would."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from accounts_helpers import GELATO, Clock, Person, add_member, set_up_person, sign_in
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.roles import Role

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "la-gelato-academy.yaml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
PAGES = ("", "manifest", "manifest/1", "policies", "people", "keys", "audit", "outbox")
"""Every page of an organisation (after /admin/o/{org}/)."""


def signed_in(
    web: TestClient,
    factory: sessionmaker[Session],
    faker: Faker,
    clock: Clock,
    *,
    role: Role = Role.OWNER,
    org: str = GELATO,
    also: dict[str, Role] | None = None,
) -> Person:
    """A person with `role` in `org` (and the roles of `also` elsewhere), signed in on `web`
    with `org` opened (its `console.opened` entry written)."""
    person = set_up_person(factory, faker, org=org, role=role)
    for other, other_role in (also or {}).items():
        add_member(factory, person, org=other, role=other_role)
    sign_in(web, person, clock)
    assert web.get(f"/admin/o/{org}/").status_code == 200
    return person


def next_manifest(effective: str = "2026-12-01") -> str:
    """La Gelato Academy's manifest as a new version: the same text, a later effective date."""
    return changed(EXAMPLE_TEXT, "effective: 2026-04-28", f"effective: {effective}")


def changed(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_of(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "no form with a CSRF token on the page"
    return found.group(1)


class _PageAudit(HTMLParser):
    """Everything on a page that a strict CSP (no inline script or style) would refuse."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script":
            self._in_script = True
            if not names.get("src"):
                self.problems.append("an inline <script>")
        if tag == "style":
            self.problems.append("a <style> element")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"style= on <{tag}>")
            if name.startswith("on") or name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"event handler {name}= on <{tag}>")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("script content inline")


def csp_problems(html: str) -> list[str]:
    audit = _PageAudit()
    audit.feed(html)
    audit.close()
    return audit.problems


SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


def svgs(html: str) -> Iterator[ET.Element]:
    """Each inline SVG of the page, parsed as XML (so it must be well-formed)."""
    for found in SVG.finditer(html):
        yield ET.fromstring(found.group(0))
