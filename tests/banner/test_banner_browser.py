"""A shop's own site (another origin, served by a tiny static server) loads the banner from a
live jagadata in real Chromium: Indonesian by the page's language, equal buttons, blocked
analytics until allowed, cookies cleared on withdrawal, GPC honoured, keyboard-only use, and
every choice in the ledger with its evidence."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from jagadata.consent.models import ConsentEvent
from jagadata.db.tenancy import ALL_ORGANISATIONS_KEY
from jagadata.i18n import gettext

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
GELATO = "la-gelato-academy"
GCM = "toko-gcm"
GPC_ON = (
    "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', "
    "{get: function () { return true; }});"
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


def _b(lang: str, message: str) -> str:
    return gettext(lang, message, "banner")


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """jagadata served by uvicorn on a free port of 127.0.0.1, in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(600):
        if uvicorn_server.started or not thread.is_alive():
            break
        time.sleep(0.05)
    assert uvicorn_server.started, "uvicorn did not start"
    base_url = f"http://127.0.0.1:{port}"
    app.state.settings = app.state.settings.model_copy(update={"base_url": base_url})
    yield base_url
    uvicorn_server.should_exit = True
    thread.join(timeout=30)
    sock.close()


def page_html(server: str, lang: str, org: str = GELATO) -> str:
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Toko Gelato</title>
<script src="{server}/o/{org}/banner.js" defer></script>
<script type="text/plain" data-category="analytics">
document.cookie = "_ga=GA1.1.42;path=/"; document.cookie = "_ga_SHOP=GS1.1;path=/";
window.analyticsRan = (window.analyticsRan || 0) + 1;
</script>
<script type="text/plain" data-category="marketing" src="/pixel.js"></script>
<script type="text/plain" data-category="marketing">
window.order = (window.order || []).concat("inline");
</script>
</head><body><h1>Toko Gelato</h1><p><a href="/menu">Menu</a></p></body></html>"""


@pytest.fixture
def shop(server: str) -> Iterator[str]:
    """The shop's site on another origin (localhost, another port) embedding the banner."""
    pages = {f"/{lang}.html": page_html(server, lang).encode() for lang in ("id", "fr", "de")}
    pages["/gcm.html"] = page_html(server, "id", GCM).encode()
    pages["/pixel.js"] = b'window.order = (window.order || []).concat("pixel");'

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            kind = "text/javascript" if self.path.endswith(".js") else "text/html"
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *_args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def ledger(app: FastAPI, consent_id: str) -> list[ConsentEvent]:
    with app.state.sessions() as session:
        session.info[ALL_ORGANISATIONS_KEY] = True
        return list(
            session.scalars(
                select(ConsentEvent)
                .where(ConsentEvent.subject_ref == consent_id)
                .order_by(ConsentEvent.sequence)
            )
        )


def consent_id(page: Any) -> str:
    value = page.evaluate("window.jagadata.consentId()")
    assert isinstance(value, str) and value.startswith("anon_")
    return value


def cookie_names(context: Any) -> set[str]:
    return {c["name"] for c in context.cookies()}


def click_and_wait_for_record(page: Any, name: str) -> None:
    with page.expect_response(
        lambda r: "/banner/choices" in r.url and r.request.method == "POST"
    ) as answer:
        page.get_by_role("button", name=name, exact=True).click()
    assert answer.value.status == 201, answer.value.text()


def test_a_visitor_rejects_accepts_and_withdraws_on_the_shops_site(
    app: FastAPI, server: str, shop: str
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        problems: list[str] = []

        # Reject all: the analytics script never runs.
        context = browser.new_context(user_agent="Mozilla/5.0 (Linux; Android 14) UjiBanner/1")
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{shop}/id.html")
        dialog = page.get_by_role("dialog", name=_b("id", "Privacy and cookies"))
        dialog.wait_for()
        assert dialog.get_attribute("aria-modal") == "true"
        assert dialog.get_attribute("lang") == "id"
        buttons = [
            dialog.get_by_role("button", name=_b("id", label), exact=True)
            for label in ("Accept all", "Reject all", "Choose")
        ]
        boxes = [b.bounding_box() for b in buttons]
        styles = [
            b.evaluate(
                "e => { const s = getComputedStyle(e);"
                " return [s.fontSize, s.fontWeight, s.backgroundColor, s.color, s.borderWidth]; }"
            )
            for b in buttons
        ]
        assert all(box is not None for box in boxes)
        assert len({round(box["height"]) for box in boxes if box}) == 1, boxes
        assert len({round(box["width"]) for box in boxes if box}) == 1, boxes
        assert len({tuple(s) for s in styles}) == 1, styles  # equal prominence
        click_and_wait_for_record(page, _b("id", "Reject all"))
        assert dialog.is_hidden()
        assert page.evaluate("window.analyticsRan") is None
        assert page.evaluate("window.order") is None
        assert not {"_ga", "_ga_SHOP"} & cookie_names(context)
        refused = ledger(app, consent_id(page))
        assert sorted((e.purpose, e.kind) for e in refused) == [
            ("cookies_analytics", "refused"),
            ("cookies_marketing", "refused"),
            ("cookies_preference", "refused"),
        ]
        page.reload()
        assert page.get_by_role("button", name=_b("id", "Privacy settings")).is_visible()
        assert dialog.is_hidden()  # the choice is remembered
        assert page.evaluate("window.analyticsRan") is None
        context.close()

        # Accept all: the script runs; then withdraw analytics: its cookies are cleared.
        context = browser.new_context(user_agent="Mozilla/5.0 (Linux; Android 14) UjiBanner/1")
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{shop}/id.html")
        page.evaluate(
            "window.addEventListener('jagadata:consent', e => { window.told = e.detail; })"
        )
        click_and_wait_for_record(page, _b("id", "Accept all"))
        assert page.evaluate("window.told") == {
            "preference": True,
            "analytics": True,
            "marketing": True,
        }
        assert page.evaluate("window.analyticsRan") == 1
        assert {"_ga", "_ga_SHOP"} <= cookie_names(context)
        page.wait_for_function("(window.order || []).length == 2")
        assert page.evaluate("window.order") == ["pixel", "inline"]  # in page order
        page.get_by_role("button", name=_b("id", "Privacy settings")).click()
        dialog = page.get_by_role("dialog", name=_b("id", "Privacy and cookies"))
        dialog.get_by_role("button", name=_b("id", "Choose"), exact=True).click()
        analytics = dialog.get_by_role("checkbox", name="Analitik")
        assert analytics.is_checked()
        analytics.uncheck()
        click_and_wait_for_record(page, _b("id", "Save my choices"))
        assert not {"_ga", "_ga_SHOP"} & cookie_names(context)
        events = ledger(app, consent_id(page))
        assert [(e.purpose, e.kind) for e in events if e.purpose == "cookies_analytics"] == [
            ("cookies_analytics", "given"),
            ("cookies_analytics", "withdrawn"),
        ]
        for event in events:
            assert event.channel == "cookie_banner"
            assert event.language == "id"
            assert event.evidence["ip_network"] == "127.0.0.0/24"
            assert "UjiBanner/1" in event.evidence["user_agent"]
            assert len(event.notice_hash) == 64
        page.reload()
        assert page.evaluate("window.analyticsRan") is None  # blocked again after withdrawal
        context.close()

        # French page: the banner speaks French.
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{shop}/fr.html")
        page.get_by_role("dialog", name=_b("fr", "Privacy and cookies")).wait_for()
        assert page.get_by_role("button", name=_b("fr", "Accept all"), exact=True).is_visible()
        context.close()

        # A language the organisation does not publish: Indonesian, the authoritative one.
        context = browser.new_context(locale="de-DE")
        page = context.new_page()
        page.goto(f"{shop}/de.html")
        page.get_by_role("dialog", name=_b("id", "Privacy and cookies")).wait_for()
        assert page.get_by_role("button", name=_b("id", "Reject all"), exact=True).is_visible()
        context.close()
        browser.close()
        assert problems == [], problems


def test_global_privacy_control_starts_denied(app: FastAPI, server: str, shop: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context()
        context.add_init_script(GPC_ON)
        page = context.new_page()
        page.goto(f"{shop}/id.html")
        settings = page.get_by_role("button", name=_b("id", "Privacy settings"))
        settings.wait_for()
        dialog = page.get_by_role("dialog", name=_b("id", "Privacy and cookies"))
        assert dialog.is_hidden()
        assert page.evaluate("window.analyticsRan") is None
        assert page.evaluate("window.jagadata.allowed('analytics')") is False
        page.evaluate("window.jagadata.openBanner()")
        assert dialog.is_visible()
        assert dialog.get_by_text(
            _b(
                "id",
                "Your browser sends a Global Privacy Control signal: "
                "optional cookies stay off unless you turn them on here.",
            )
        ).is_visible()
        dialog.get_by_role("button", name=_b("id", "Choose"), exact=True).click()
        assert not dialog.get_by_role("checkbox", name="Analitik").is_checked()
        context.close()
        browser.close()


def test_the_banner_works_with_the_keyboard_alone(app: FastAPI, server: str, shop: str) -> None:
    from playwright.sync_api import sync_playwright

    inside = "document.querySelector('[role=dialog]').contains(document.activeElement)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{shop}/id.html")
        dialog = page.get_by_role("dialog", name=_b("id", "Privacy and cookies"))
        dialog.wait_for()
        assert page.evaluate(inside)  # focus moved into the dialog
        seen = set()
        for _ in range(12):  # more stops than the dialog has: Tab must cycle inside it
            page.keyboard.press("Tab")
            assert page.evaluate(inside)
            seen.add(page.evaluate("document.activeElement.textContent"))
        assert _b("id", "Accept all") in seen and _b("id", "Reject all") in seen
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(inside)
        page.keyboard.press("Escape")
        assert dialog.is_hidden()
        settings = _b("id", "Privacy settings")
        assert page.evaluate("document.activeElement.textContent") == settings
        page.keyboard.press("Enter")  # reopen from the settings button
        assert dialog.is_visible()
        page.keyboard.press("Escape")
        assert page.evaluate("document.activeElement.textContent") == settings  # focus returns
        page.keyboard.press("Enter")
        while page.evaluate("document.activeElement.textContent") != _b("id", "Accept all"):
            page.keyboard.press("Tab")
        with page.expect_response(
            lambda r: "/banner/choices" in r.url and r.request.method == "POST"
        ):
            page.keyboard.press("Enter")
        assert dialog.is_hidden()
        assert page.evaluate("window.analyticsRan") == 1
        assert [e.kind for e in ledger(app, consent_id(page))] == ["given"] * 3
        context.close()
        browser.close()


def test_google_consent_mode_follows_the_choice(app: FastAPI, server: str, shop: str) -> None:
    from playwright.sync_api import sync_playwright

    from jagadata.manifest.loader import load_manifest_text
    from jagadata.orgs.service import add_organisation

    text = (Path(__file__).resolve().parents[2] / "examples" / "la-gelato-academy.yaml").read_text(
        encoding="utf-8"
    )
    text = text.replace(f"slug: {GELATO}", f"slug: {GCM}", 1).replace(
        "\nchildren:\n", "\ncookie_banner:\n  google_consent_mode: true\n\nchildren:\n", 1
    )
    with app.state.sessions() as session:
        add_organisation(session=session, loaded=load_manifest_text(text, file="gcm.yaml"))
    signals = (
        "(window.dataLayer || []).filter(a => a[0] === 'consent')"
        ".map(a => [a[1], a[2].analytics_storage, a[2].ad_storage, a[2].security_storage])"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.goto(f"{shop}/gcm.html")
        page.get_by_role("dialog", name=_b("id", "Privacy and cookies")).wait_for()
        assert page.evaluate(signals) == [["default", "denied", "denied", "granted"]]
        page.get_by_role("button", name=_b("id", "Choose"), exact=True).click()
        page.get_by_role("checkbox", name="Analitik").check()
        click_and_wait_for_record(page, _b("id", "Save my choices"))
        assert page.evaluate(signals)[-1] == ["update", "granted", "denied", "granted"]
        page.reload()
        assert page.evaluate(signals) == [
            ["default", "denied", "denied", "granted"],
            ["update", "granted", "denied", "granted"],
        ]
        browser.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_the_three_choices_are_equal_on_a_phone_and_a_desktop(
    server: str, shop: str, width: int
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": width, "height": 740})
        page.goto(f"{shop}/id.html")
        dialog = page.get_by_role("dialog", name=_b("id", "Privacy and cookies"))
        dialog.wait_for()
        boxes = [
            dialog.get_by_role("button", name=_b("id", label), exact=True).bounding_box()
            for label in ("Accept all", "Reject all", "Choose")
        ]
        assert all(box is not None for box in boxes)
        assert len({(round(b["width"]), round(b["height"])) for b in boxes if b}) == 1, boxes
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        browser.close()
