"""docs/api.md stays true: every route the app serves — pages, console, API, static files —
is documented there as `METHOD /path`, and the check itself fails for an undocumented route."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
IGNORED_METHODS = frozenset({"HEAD"})
"""Answered wherever GET is; not documented separately."""


def served(app: FastAPI) -> Iterator[str]:
    """`METHOD /path` of every route, walking into included routers (which this FastAPI keeps
    as `_IncludedRouter` entries in `app.routes`, not as routes); a mount is `GET /prefix/…`."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            yield f"GET {route.path}/…"
            continue
        for method in sorted((context.methods or set()) - IGNORED_METHODS):
            yield f"{method} {context.path}"


def undocumented(app: FastAPI, text: str) -> list[str]:
    return [route for route in served(app) if f"`{route}`" not in text]


def test_every_route_is_documented(app: FastAPI) -> None:
    routes = list(served(app))
    for expected in (
        "GET /o/{org}/",
        "GET /api/v1/orgs/{org}/policy",
        "POST /admin/login",
        "GET /admin/o/{org}/audit",
        "POST /admin/o/{org}/manifest",
        "GET /static/console/…",
    ):
        assert expected in routes, f"the walk misses {expected}"
    missing = undocumented(app, DOC.read_text(encoding="utf-8"))
    assert not missing, f"document these in docs/api.md: {missing}"


def test_an_undocumented_route_is_caught(app: FastAPI) -> None:
    hidden = APIRouter(prefix="/admin/o/{org}")
    hidden.add_api_route("/not-in-the-docs", lambda: {}, methods=["GET", "DELETE"])
    outer = APIRouter()
    outer.include_router(hidden)
    app.include_router(outer)
    app.mount("/undocumented-files", FastAPI())
    missing = undocumented(app, DOC.read_text(encoding="utf-8"))
    assert missing == [
        "DELETE /admin/o/{org}/not-in-the-docs",
        "GET /admin/o/{org}/not-in-the-docs",
        "GET /undocumented-files/…",
    ]
