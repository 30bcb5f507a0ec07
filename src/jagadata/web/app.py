"""The web application: privacy centres, the JSON API and the health check, in one app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from jagadata import __version__
from jagadata.accounts.views import install as install_accounts
from jagadata.banner import api as banner_api
from jagadata.children import api as children_api
from jagadata.children import views as children_views
from jagadata.config import Settings, get_settings
from jagadata.consent import api as consent_api
from jagadata.consent import inbound as consent_inbound
from jagadata.consent import optin_api as consent_optin_api
from jagadata.consent import public as consent_public
from jagadata.consent import views as consent_views
from jagadata.console.views import install as install_console
from jagadata.crypto import get_keyring
from jagadata.datastores import automation as datastore_automation  # noqa: F401 - starts engine runs
from jagadata.db import make_engine, session_factory
from jagadata.db.migrate import head_revision
from jagadata.policy.render import policy_stylesheet
from jagadata.rights import api as rights_api
from jagadata.rights import download as rights_download
from jagadata.rights import pages as rights_pages
from jagadata.web import api, centre
from jagadata.web.middleware import ErrorPageMiddleware, SecurityHeadersMiddleware
from jagadata.web.templating import choose_language, render_page

STATIC_DIR: Final = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app on `settings` (default: the environment); the database must be migrated."""
    settings = settings or get_settings()
    get_keyring(settings)  # production refuses to start without an explicit keyring
    engine = make_engine(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="jagadata",
        version=__version__,
        description="Privacy centres and policy API of organisations under UU PDP (Law 27/2022).",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.head_revision = head_revision()
    install_accounts(app, settings)
    app.add_middleware(ErrorPageMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_api_route("/static/policy.css", _policy_css, include_in_schema=False)
    app.include_router(consent_api.router)
    app.include_router(consent_views.router)
    app.include_router(children_api.router)
    app.include_router(children_views.router)
    app.include_router(banner_api.api)
    app.include_router(banner_api.router)
    app.include_router(consent_optin_api.router)
    app.include_router(consent_public.router)
    app.include_router(consent_inbound.router)
    app.include_router(rights_pages.router)
    app.include_router(rights_download.router)
    app.include_router(rights_api.router)
    install_console(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(api.health_router)
    app.include_router(api.router)
    app.include_router(centre.router)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    return app


def _policy_css() -> Response:
    """The policy's own stylesheet (tables as cards on phones), for the fragments pages embed."""
    return Response(
        policy_stylesheet(),
        media_type="text/css; charset=utf-8",
        headers={"cache-control": "public, max-age=3600"},
    )


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/healthz"))


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    """API errors stay JSON; a visitor gets a page in their language, the same for any 404."""
    if _is_api(request):
        return await http_exception_handler(request, error)
    return _error_page(request, error.status_code, dict(error.headers or {}))


async def _invalid_request(request: Request, error: RequestValidationError) -> Response:
    if _is_api(request):
        return await request_validation_exception_handler(request, error)
    return _error_page(request, 404)


def _error_page(
    request: Request, status_code: int, headers: dict[str, str] | None = None
) -> Response:
    lang = choose_language(request)
    template = "not_found.html" if status_code == 404 else "error.html"
    return render_page(
        request,
        template,
        lang=lang,
        status_code=status_code,
        context={"status": status_code, "reference": None, "unavailable": False},
        headers={"cache-control": "no-store", **(headers or {})},
    )
