"""Account pages in the visitor's language, from the `accounts` catalogue; never cached."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse

from jagadata.i18n import LANGUAGES, gettext, translations
from jagadata.orgs.service import WIB
from jagadata.web.templating import ENDONYMS, LANG_COOKIE, LANG_COOKIE_MAX_AGE, known_language

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
NO_STORE: Final = {"cache-control": "no-store", "pragma": "no-cache"}
"""Pages that show codes, keys or sessions must never be kept by a browser or a proxy."""


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "accounts")


def local_time(moment: datetime | None, lang: str) -> str:
    """The instant in Western Indonesia Time, in the page's language."""
    if moment is None:
        return "—"
    return format_datetime(moment.astimezone(WIB), format="medium", locale=lang) + " WIB"


@lru_cache(maxsize=len(LANGUAGES))
def environment(lang: str) -> Environment:
    from jagadata.web.csrf import csrf_field, csrf_token

    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang, "accounts"), newstyle=True)  # type: ignore[attr-defined]
    env.filters["local_time"] = lambda moment: local_time(moment, lang)
    env.globals["csrf_field"] = csrf_field
    env.globals["csrf_token"] = csrf_token
    return env


def render(
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
        .render(
            lang=lang,
            root=connection.scope.get("root_path", ""),
            path=connection.url.path,
            endonyms=ENDONYMS,
            **(context or {}),
        )
    )
    response = HTMLResponse(page, status_code=status_code, headers={**NO_STORE, **(headers or {})})
    if known_language(connection.query_params.get("lang"), LANGUAGES) == lang and (
        connection.cookies.get(LANG_COOKIE) != lang
    ):
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=LANG_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=connection.url.scheme == "https",
        )
    return response
