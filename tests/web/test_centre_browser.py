"""Budi on his phone: a real browser (the system Chromium) against a real server opens the
privacy centre in Indonesian, switches to English, and never scrolls sideways at 375 px."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from jagadata.i18n import gettext

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


def _web(lang: str, message: str) -> str:
    return gettext(lang, message, "web")


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free port, in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(600):  # up to 30 s
        if uvicorn_server.started or not thread.is_alive():
            break
        time.sleep(0.05)
    assert uvicorn_server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(timeout=30)
    sock.close()


def test_budi_reads_the_policy_in_indonesian_then_english_on_a_phone(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            locale="id-ID",
            viewport={"width": 375, "height": 740},
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
        )
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        question = "Questions about your data?"

        page.goto(f"{server}/o/la-gelato-academy/")
        assert page.locator("html").get_attribute("lang") == "id"
        assert page.get_by_role("heading", name=_web("id", question)).is_visible()
        assert page.get_by_text(_web("id", "Privacy centre"), exact=True).is_visible()
        assert page.locator("article[lang=id] h1").count() == 1
        assert _no_horizontal_scroll(page)
        assert _tables_needing_sideways_scroll(page) == []

        page.get_by_role("navigation", name=_web("id", "Language")).get_by_role(
            "link", name="English"
        ).click()
        page.wait_for_load_state()
        assert page.url.endswith("/o/la-gelato-academy/?lang=en")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("heading", name=_web("en", question)).is_visible()
        assert page.locator("article[lang=en]").count() == 1
        assert _no_horizontal_scroll(page)

        page.goto(f"{server}/o/la-gelato-academy/versions")
        assert page.locator("html").get_attribute("lang") == "en"  # the choice is remembered
        assert _no_horizontal_scroll(page)
        assert problems == [], problems  # e.g. a style or script refused by the CSP
        browser.close()


def _no_horizontal_scroll(page: object) -> bool:
    return bool(
        page.evaluate(  # type: ignore[attr-defined]
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def _tables_needing_sideways_scroll(page: object) -> list[str]:
    """Policy tables wider than their box: readable only by scrolling sideways inside them."""
    return list(
        page.evaluate(  # type: ignore[attr-defined]
            "Array.from(document.querySelectorAll('.policy table'))"
            ".filter(t => t.parentElement.scrollWidth > t.parentElement.clientWidth + 1)"
            ".map(t => t.id || (t.caption && t.caption.textContent) || '?')"
        )
    )
