"""Pages in the visitor's language: choosing it, and Jinja templates translated from `web`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse

from jagadata.i18n import LANGUAGES, gettext, negotiate, translations

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
LANG_COOKIE: Final = "lang"
LANG_COOKIE_MAX_AGE: Final = 365 * 24 * 3600
ENDONYMS: Final = {"id": "Bahasa Indonesia", "en": "English", "fr": "Français"}
"""Each language named in itself, so a visitor finds theirs whatever the page's language."""


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "web")


def known_language(value: str | None, offered: Iterable[str]) -> str | None:
    """`value` as one of `offered` ('id-ID' and the old 'in' count as 'id'), else None."""
    if not value:
        return None
    base = value.replace("_", "-").split("-", 1)[0].strip().lower()
    base = "id" if base == "in" else base
    return base if base in tuple(offered) else None


def choose_language(connection: HTTPConnection, offered: Iterable[str] = LANGUAGES) -> str:
    """?lang= wins, then the `lang` cookie, then Accept-Language; Indonesian by default."""
    offered = [lang for lang in offered if lang in LANGUAGES] or ["id"]
    for candidate in (connection.query_params.get("lang"), connection.cookies.get(LANG_COOKIE)):
        chosen = known_language(candidate, offered)
        if chosen:
            return chosen
    return negotiate(connection.headers.get("accept-language"), offered)


def long_date(value: date, lang: str) -> str:
    return format_date(value, format="long", locale=lang)


@lru_cache(maxsize=len(LANGUAGES))
def environment(lang: str) -> Environment:
    """One environment per language, so concurrent requests never share a translation."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang, "web"), newstyle=True)  # type: ignore[attr-defined]
    env.filters["long_date"] = lambda value: long_date(value, lang)
    env.globals["endonyms"] = ENDONYMS
    return env


def render_page(
    connection: HTTPConnection,
    template: str,
    *,
    lang: str,
    status_code: int = 200,
    context: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    page = (
        environment(lang)
        .get_template(template)
        .render(lang=lang, root=connection.scope.get("root_path", ""), **(context or {}))
    )
    return HTMLResponse(page, status_code=status_code, headers=dict(headers or {}))
