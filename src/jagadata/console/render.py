"""Console pages in the person's language (Indonesian unless they chose English), inside the
shell: top bar with the organisation switcher, language, account and sign out; the sections of
the organisation shown. An HTMX request for a part of a page gets only that part."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse

from jagadata import __version__
from jagadata.accounts.deps import Member, SignedIn
from jagadata.accounts.roles import ROLE_LABELS, Role
from jagadata.accounts.templating import NO_STORE, local_time
from jagadata.console import nav
from jagadata.i18n import LANGUAGES, Layered, gettext, translations
from jagadata.web.csrf import csrf_field, csrf_token
from jagadata.web.templating import (
    ENDONYMS,
    LANG_COOKIE,
    LANG_COOKIE_MAX_AGE,
    choose_language,
    known_language,
)

DOMAIN: Final = "console"
CONSOLE_LANGUAGES: Final = ("id", "en")
PACKAGE_DIR: Final = Path(__file__).parent.parent
TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
STATIC_DIR: Final = Path(__file__).parent / "static" / "console"
STATIC_PATH: Final = "/static/console"
HTMX_CONFIG: Final = (
    '{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,'
    '"historyCacheSize":0,"refreshOnHistoryMiss":true}'
)
"""No inline style or eval (the CSP refuses both), and no copy of a page (which may show
personal data) kept in the browser's local storage."""


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, DOMAIN)


def console_language(connection: HTTPConnection) -> str:
    """?lang=, then the `lang` cookie the sign-in pages also set, then the browser's choice."""
    return choose_language(connection, CONSOLE_LANGUAGES)


def number(value: int | float, lang: str) -> str:
    return format_decimal(value, locale=lang)


@lru_cache(maxsize=4 * len(LANGUAGES))
def environment(lang: str, domain: str = DOMAIN) -> Environment:
    """One environment per language (and catalogue), so concurrent requests never share a
    translation. Templates are found as `<package>/templates/<name>`: a feature keeps its
    console pages in its own package (`requests/templates/requests/…`) and its own catalogue."""
    env = Environment(
        loader=FileSystemLoader([TEMPLATES_DIR, *sorted(PACKAGE_DIR.glob("*/templates"))]),
        autoescape=select_autoescape(["html", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalogue = translations(lang, DOMAIN)
    if domain != DOMAIN:
        catalogue = Layered(translations(lang, domain), catalogue)
    env.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
    env.filters["local_time"] = lambda moment: local_time(moment, lang)
    env.filters["long_date"] = lambda value: _long_date(value, lang)
    env.filters["number"] = lambda value: number(value, lang)
    env.globals["format_number"] = lambda value: number(value, lang)
    env.globals["csrf_field"] = csrf_field
    env.globals["csrf_token"] = csrf_token
    env.globals["role_label"] = lambda role: gettext(lang, ROLE_LABELS[Role(role)], "accounts")
    env.globals["accounts_t"] = lambda message: gettext(lang, message, "accounts")
    return env


def _long_date(value: date | datetime | None, lang: str) -> str:
    if value is None:
        return "—"
    return format_date(value, format="long", locale=lang)


def wants_fragment(request: Request) -> bool:
    """An HTMX request that will swap a part of the page (not a history restore or a boost)."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and "hx-history-restore-request" not in headers
        and "hx-boosted" not in headers
    )


def render(
    request: Request,
    template: str,
    *,
    signed_in: SignedIn,
    member: Member | None = None,
    section: str | None = None,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    fragment: str | None = None,
    domain: str = DOMAIN,
) -> HTMLResponse:
    """The page `template` in the shell, or only the template `fragment` for an HTMX swap;
    its texts from the catalogue `domain` (a feature's own), the shell's from the console's."""
    lang = console_language(request)
    root = request.scope.get("root_path", "")
    values: dict[str, Any] = {
        "lang": lang,
        "root": root,
        "path": request.url.path,
        "static": f"{root}{STATIC_PATH}",
        "member": member,
        "organisation": member.organisation if member else None,
        **(context or {}),
    }
    if fragment is not None and wants_fragment(request):
        body = environment(lang, domain).get_template(fragment).render(values)
    else:
        accesses = nav.memberships(request, signed_in.user.id)
        shell: dict[str, Any] = dict(
            user=signed_in.user,
            accesses=accesses,
            switcher_search=len(accesses) >= nav.SEARCH_FROM,
            sections=nav.sections_for(member) if member else [],
            section=section,
            ui_languages={code: ENDONYMS[code] for code in CONSOLE_LANGUAGES},
            htmx_config=Markup(HTMX_CONFIG),
            jagadata_version=__version__,
        )
        clashes = shell.keys() & values.keys()
        assert not clashes, f"page context hides the shell's {sorted(clashes)}"
        body = environment(lang, domain).get_template(template).render({**values, **shell})
    response = HTMLResponse(
        body, status_code=status_code, headers={**NO_STORE, "vary": "HX-Request, Cookie"}
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    _remember_language(request, response, lang)
    return response


def _remember_language(request: Request, response: HTMLResponse, lang: str) -> None:
    """A language chosen with ?lang= is kept in the same cookie the sign-in pages use."""
    chosen = known_language(request.query_params.get("lang"), CONSOLE_LANGUAGES)
    if chosen == lang and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=LANG_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
