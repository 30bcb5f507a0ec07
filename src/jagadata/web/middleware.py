"""Security headers on every response, and a short page instead of any traceback."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable
from typing import Final

from sqlalchemy.exc import OperationalError
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jagadata.db import DatabaseUnavailable
from jagadata.web.templating import choose_language, environment

log = logging.getLogger("jagadata.web")

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS: Final = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "x-frame-options": "DENY",
}


_RAW_SECURITY_HEADERS: Final = tuple(
    (name.encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items()
)


def with_security_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The response's raw headers and every security header it does not set itself (one pass
    over its headers, however many: this runs on every response)."""
    raw = list(headers)
    present = {name.lower() for name, _ in raw}
    raw.extend(header for header in _RAW_SECURITY_HEADERS if header[0] not in present)
    return raw


class SecurityHeadersMiddleware:
    """Adds the headers above; a response that sets its own Content-Security-Policy keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(message.get("headers", ()))
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ErrorPageMiddleware:
    """Any unexpected error becomes a short page with a reference id; the details go to the log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            reference = secrets.token_hex(4)
            unavailable = isinstance(error, DatabaseUnavailable | OperationalError)
            log.error(
                "error %s on %s %s",
                reference,
                scope.get("method"),
                scope.get("path"),
                exc_info=error,
            )
            if started:
                return
            await _send_error_page(scope, send, reference=reference, unavailable=unavailable)


async def _send_error_page(scope: Scope, send: Send, *, reference: str, unavailable: bool) -> None:
    lang = choose_language(HTTPConnection(scope))
    status = 503 if unavailable else 500
    if scope.get("path", "").startswith("/api/"):
        detail = "service unavailable" if unavailable else "internal error"
        body = json.dumps({"detail": detail, "reference": reference}).encode()
        content_type = b"application/json"
    else:
        page = (
            environment(lang)
            .get_template("error.html")
            .render(
                lang=lang,
                root=scope.get("root_path", ""),
                status=status,
                reference=reference,
                unavailable=unavailable,
            )
        )
        body = page.encode("utf-8")
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
