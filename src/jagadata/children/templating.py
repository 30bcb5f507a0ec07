"""The children's consent pages in the privacy centre's look: this package's templates first,
then the centre's own (base, header, footer), translated from `children` then `web`."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse

from jagadata.i18n import LANGUAGES, Layered, translations
from jagadata.web.csrf import csrf_field, csrf_token
from jagadata.web.templating import ENDONYMS
from jagadata.web.templating import TEMPLATES_DIR as WEB_TEMPLATES

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
PRIVATE: Final = {"cache-control": "private, no-store", "x-robots-tag": "noindex, nofollow"}


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
        Layered(translations(lang, "children"), translations(lang, "web")), newstyle=True
    )
    env.globals["endonyms"] = ENDONYMS
    env.globals["csrf_field"] = csrf_field
    env.globals["csrf_token"] = csrf_token
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
