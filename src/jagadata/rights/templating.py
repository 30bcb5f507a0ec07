"""The request pages in the privacy centre's look: this package's templates first, then the
centre's own (base, header, footer), translated from `rights`, then `web`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse

from jagadata.i18n import LANGUAGES, Layered, gettext, translations
from jagadata.rights.clock import zone_label
from jagadata.web.csrf import csrf_field, csrf_token
from jagadata.web.templating import ENDONYMS
from jagadata.web.templating import TEMPLATES_DIR as WEB_TEMPLATES

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
PRIVATE: Final = {"cache-control": "private, no-store", "x-robots-tag": "noindex, nofollow"}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "rights")


def local_time(moment: datetime | None, lang: str, zone: str) -> str:
    """'Kamis, 26 November 2026 23.30 WIB': the organisation's own clock, its zone named."""
    if moment is None:
        return ""
    tz = ZoneInfo(zone)
    text = format_datetime(moment.astimezone(tz), "EEEE, d MMMM y HH:mm", tzinfo=tz, locale=lang)
    return f"{text} {zone_label(tz)}"


@lru_cache(maxsize=len(LANGUAGES))
def environment(lang: str) -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES_DIR), FileSystemLoader(WEB_TEMPLATES)]),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]
        Layered(translations(lang, "rights"), translations(lang, "web")), newstyle=True
    )
    env.globals["endonyms"] = ENDONYMS
    env.globals["csrf_field"] = csrf_field
    env.globals["csrf_token"] = csrf_token
    env.filters["local_time"] = lambda moment, zone: local_time(moment, lang, zone)
    return env


def render(
    connection: HTTPConnection,
    template: str,
    *,
    lang: str,
    context: Mapping[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    page = (
        environment(lang)
        .get_template(template)
        .render(lang=lang, root=connection.scope.get("root_path", ""), **context)
    )
    return HTMLResponse(page, status_code=status_code, headers=PRIVATE)
