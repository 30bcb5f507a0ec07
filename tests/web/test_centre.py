"""The public privacy centre: the policy in force in the visitor's language, a switcher,
version history, downloads, the contact block, and 404s that give nothing away."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from jagadata.i18n import gettext
from jagadata.web.middleware import CONTENT_SECURITY_POLICY
from jagadata.web.templating import long_date

CENTRE = "/o/la-gelato-academy/"


def _web(lang: str, message: str) -> str:
    return gettext(lang, message, "web")


class Outline(HTMLParser):
    """The parts of a page the tests look at: its language, headings, links and landmarks."""

    def __init__(self) -> None:
        super().__init__()
        self.html_lang: str | None = None
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.html_lang = attributes.get("lang")
        self.tags.append((tag, attributes))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attributes for name, attributes in self.tags if name == tag]

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


@pytest.mark.parametrize(
    ("accept", "lang"),
    [("id-ID,id;q=0.9", "id"), ("en-GB", "en"), ("fr-FR,fr;q=0.9,en;q=0.5", "fr")],
)
def test_the_policy_is_shown_in_the_browsers_language(
    client: TestClient, accept: str, lang: str
) -> None:
    response = client.get(CENTRE, headers={"accept-language": accept})
    assert response.status_code == 200
    page = outline(response.text)
    assert page.html_lang == lang
    assert _web(lang, "Privacy centre") in page.plain
    assert _web(lang, "Questions about your data?") in page.plain
    assert page.all("article")[0].get("lang") == lang
    assert "Accept-Language" in response.headers["vary"]


def test_indonesian_ui_text_comes_from_the_catalogue(client: TestClient) -> None:
    page = outline(client.get(CENTRE, headers={"accept-language": "id"}).text).plain
    for message in ("Privacy centre", "Questions about your data?", "Version history"):
        assert _web("id", message) != message
        assert _web("id", message) in page


def test_query_beats_cookie_beats_accept_language(client: TestClient) -> None:
    english = client.get(CENTRE + "?lang=en", headers={"accept-language": "fr"})
    assert outline(english.text).html_lang == "en"
    assert english.cookies.get("lang") == "en"
    cookie = english.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie

    remembered = client.get(CENTRE, headers={"accept-language": "fr"})
    assert outline(remembered.text).html_lang == "en"

    client.cookies.clear()
    assert outline(client.get(CENTRE, headers={"accept-language": "fr"}).text).html_lang == "fr"


def test_an_unknown_language_in_the_query_is_ignored(client: TestClient) -> None:
    response = client.get(CENTRE + "?lang=de", headers={"accept-language": "fr"})
    assert outline(response.text).html_lang == "fr"
    assert "set-cookie" not in response.headers


def test_the_switcher_links_each_language_and_marks_the_current_one(client: TestClient) -> None:
    page = outline(client.get(CENTRE + "?lang=fr").text)
    navigation = [n for n in page.all("nav") if n.get("aria-label") == _web("fr", "Language")]
    assert navigation, "the language switcher is a labelled <nav>"
    switch = {a["hreflang"]: a for a in page.all("a") if a.get("hreflang")}
    assert set(switch) == {"id", "en", "fr"}
    assert {a["href"] for a in switch.values()} == {"?lang=id", "?lang=en", "?lang=fr"}
    assert [code for code, a in switch.items() if a.get("aria-current") == "true"] == ["fr"]


def test_the_contact_block_and_the_indonesian_text_prevailing(client: TestClient) -> None:
    response = client.get(CENTRE, headers={"accept-language": "en"})
    page = outline(response.text)
    hrefs = {a.get("href") for a in page.all("a")}
    assert "mailto:privasi@lagelatoacademy.example" in hrefs
    assert "https://wa.me/6281200000001" in hrefs
    assert (
        _web(
            "en",
            "Translations are provided for convenience. If they differ, the "
            "Indonesian text prevails.",
        )
        in page.plain
    )


def test_pages_need_no_script_and_carry_security_headers(client: TestClient) -> None:
    for path in (
        CENTRE,
        CENTRE + "versions",
        CENTRE + "versions/1",
        "/o/nope/",
        "/static/centre.css",
        "/static/policy.css",
    ):
        response = client.get(path)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "default-src 'self'" in CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "camera=()" in response.headers["permissions-policy"]
        if response.headers["content-type"].startswith("text/html"):
            page = outline(response.text)
            assert not page.all("script") and not page.all("style")
            assert not [attrs for _, attrs in page.tags if "style" in attrs]


def test_pages_are_made_for_a_phone_and_for_assistive_technology(client: TestClient) -> None:
    page = outline(client.get(CENTRE).text)
    viewports = [m for m in page.all("meta") if m.get("name") == "viewport"]
    assert viewports and "width=device-width" in (viewports[0].get("content") or "")
    assert len(page.all("main")) == 1
    stylesheets = {link.get("href") for link in page.all("link") if link.get("rel") == "stylesheet"}
    assert stylesheets == {"/static/centre.css", "/static/policy.css"}
    skip = [a for a in page.all("a") if a.get("href") == "#main"]
    assert skip, "a link lets keyboard users skip to the content"


def test_version_history_lists_each_version_with_its_dates(client: TestClient) -> None:
    response = client.get(CENTRE + "versions", headers={"accept-language": "id"})
    assert response.status_code == 200
    page = outline(response.text)
    assert _web("id", "Version history") in page.plain
    assert long_date(date(2026, 4, 28), "id") in page.plain
    links = {a.get("href") for a in page.all("a")}
    assert CENTRE + "versions/1?lang=id" in links


def test_a_version_page_shows_that_version(client: TestClient) -> None:
    response = client.get(CENTRE + "versions/1?lang=en")
    assert response.status_code == 200
    expected = _web("en", "Version %(number)s, in force since %(date)s.") % {
        "number": 1,
        "date": long_date(date(2026, 4, 28), "en"),
    }
    assert expected in outline(response.text).plain


def test_downloads_are_the_stored_documents(client: TestClient) -> None:
    html = client.get(CENTRE + "policy.html?lang=fr&version=1")
    assert html.status_code == 200
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert "style-src 'unsafe-inline'" in html.headers["content-security-policy"]
    assert "script-src" not in html.headers["content-security-policy"]
    stored = client.get("/api/v1/orgs/la-gelato-academy/policy?lang=fr&format=html").json()
    assert hashlib.sha256(html.content).hexdigest() == stored["content_hash"]
    markdown = client.get(CENTRE + "policy.md", headers={"accept-language": "en"})
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert 'filename="la-gelato-academy-v1-en.md"' in markdown.headers["content-disposition"]


def test_an_address_without_the_final_slash_is_redirected(client: TestClient) -> None:
    response = client.get("/o/la-gelato-academy", follow_redirects=False)
    assert response.status_code in (307, 308)
    assert response.headers["location"].endswith(CENTRE)


@pytest.mark.parametrize(
    "path",
    [
        "/o/tidak-ada/",
        "/o/tidak-ada/versions",
        "/o/la-gelato-academy/versions/99",
        "/o/la-gelato-academy/versions/abc",
        "/o/la-gelato-academy/versions/0",
        "/o/la-gelato-academy/versions/99999999999999999999",
        "/o/NOT%20A%20SLUG/",
        "/o/%00/",
        "/o/la-gelato-academy/policy.md?version=7",
        "/nowhere",
    ],
)
def test_every_missing_page_is_the_same_404_in_the_visitors_language(
    client: TestClient, path: str
) -> None:
    reference = client.get("/o/tidak-ada/", headers={"accept-language": "fr"})
    response = client.get(path, headers={"accept-language": "fr"})
    assert response.status_code == 404
    assert response.text == reference.text
    page = outline(response.text)
    assert page.html_lang == "fr"
    assert page.all("h1") and _web("fr", "Page not found") in page.plain


def test_the_404_page_reveals_nothing_of_the_organisation(client: TestClient) -> None:
    text = client.get("/o/la-gelato-academy/versions/99").text
    assert "la-gelato-academy" not in text and "Gelato" not in text
    assert not re.search(r"Traceback|sqlalchemy|File \"", text)
