"""The console's routes in one router, and its static files (stylesheet, vendored htmx)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from jagadata.console import (
    audit_views,
    breach_views,
    consent_views,
    dpia_views,
    home,
    keys,
    manifests,
    outbox_views,
    people,
    requests_intake,
    requests_views,
    retention_views,
)
from jagadata.console.render import STATIC_DIR, STATIC_PATH

router = APIRouter(include_in_schema=False)
for _pages in (home, manifests, people, keys, audit_views, outbox_views, consent_views,
               requests_intake, requests_views, dpia_views, retention_views,
               breach_views):  # fmt: skip
    router.include_router(_pages.router)


def install(app: FastAPI) -> None:
    """Add the console's pages and its static files; before the app's own /static mount."""
    app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="console-static")
