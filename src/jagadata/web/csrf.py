"""Cross-site request forgery protection for every page that changes something.

A POST, PUT, PATCH or DELETE to a page (not /api/, which takes API keys and no cookies) must
carry a token, in the form field `csrf_token` or the header `X-CSRF-Token` (HTMX: put
`hx-headers='{"X-CSRF-Token": "{{ csrf_token() }}"}'` on <body>). Signed in, the token is an
HMAC of the session cookie (a synchronizer token bound to the session); before sign-in it is an
HMAC of a random `jd_csrf` cookie (a signed double-submit cookie). Another site can send the
cookies but cannot read or compute the token. A request without a valid token gets a 403 page
in the visitor's language and reaches no route, so nothing changes.

Templates write `{{ csrf_field() }}` inside each form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from http.cookies import SimpleCookie
from typing import Final
from urllib.parse import parse_qs

from markupsafe import Markup, escape
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jagadata.accounts.sessions import cookie_name as session_cookie_name
from jagadata.config import Settings
from jagadata.crypto import get_keyring

FIELD: Final = "csrf_token"
HEADER: Final = "x-csrf-token"
COOKIE: Final = "jd_csrf"
SECURE_COOKIE: Final = "__Host-jd_csrf"
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT_PREFIXES: Final = ("/api/", "/healthz")
MAX_FORM_BYTES: Final = 25 * 1024 * 1024


class _Tokens:
    """The tokens one request may present or print, computed from its cookies."""

    def __init__(self, session_cookie: str | None, form_cookie: str | None) -> None:
        self.session_cookie = session_cookie
        self.form_cookie = form_cookie
        self.new_form_cookie: str | None = None

    def for_templates(self) -> str:
        if self.session_cookie:
            return _session_token(self.session_cookie)
        if not self.form_cookie:
            self.form_cookie = self.new_form_cookie = secrets.token_urlsafe(32)
        return _form_token(self.form_cookie)

    def accepts(self, submitted: str | None) -> bool:
        if not submitted or len(submitted) > 200:
            return False
        candidates = []
        if self.session_cookie:
            candidates.append(_session_token(self.session_cookie))
        if self.form_cookie and not self.new_form_cookie:
            candidates.append(_form_token(self.form_cookie))
        return any(hmac.compare_digest(submitted, c) for c in candidates)


_current: ContextVar[_Tokens | None] = ContextVar("jagadata_csrf", default=None)


def _session_token(cookie: str) -> str:
    digest = hashlib.sha256(cookie.encode("utf-8", "replace")).hexdigest()
    return get_keyring().lookup_hash("csrf.session", digest)


def _form_token(cookie: str) -> str:
    return get_keyring().lookup_hash("csrf.form", cookie)


def csrf_token() -> str:
    """The token for forms of the page being rendered (for `hx-headers` and hidden fields)."""
    tokens = _current.get()
    if tokens is None:
        raise RuntimeError("csrf_token() is only available inside a request (CsrfMiddleware)")
    return tokens.for_templates()


def csrf_field() -> Markup:
    """<input type=hidden name=csrf_token …>, for the inside of every form that posts."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(csrf_token())}">')


def install_template_globals(environments: Iterable[object]) -> None:
    """Offer `csrf_field()` and `csrf_token()` in Jinja environments built elsewhere."""
    for env in environments:
        env.globals["csrf_field"] = csrf_field  # type: ignore[attr-defined]
        env.globals["csrf_token"] = csrf_token  # type: ignore[attr-defined]


Refusal = Callable[[HTTPConnection], Response]


class CsrfMiddleware:
    """Refuses unsafe requests without a valid token, answering with `refusal`'s page."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        refusal: Refusal,
        exempt: tuple[str, ...] = EXEMPT_PREFIXES,
    ) -> None:
        self.app = app
        self.refusal = refusal
        self.secure = settings.secure_cookies
        self.session_cookie = session_cookie_name(settings)
        self.form_cookie = SECURE_COOKIE if self.secure else COOKIE
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        cookies = connection.cookies
        tokens = _Tokens(cookies.get(self.session_cookie), cookies.get(self.form_cookie))
        reset = _current.set(tokens)
        try:
            path: str = scope.get("path", "")
            if scope["method"] in UNSAFE_METHODS and not path.startswith(self.exempt):
                submitted = connection.headers.get(HEADER)
                if submitted is None:
                    body, submitted = await _form_token_of(scope, receive)
                    if body is None:
                        return  # the client went away
                    receive = _replay(body, receive)
                if not tokens.accepts(submitted):
                    await _refuse(self.refusal, scope, send)
                    return
            await self.app(scope, receive, self._with_cookie(tokens, send))
        finally:
            _current.reset(reset)

    def _with_cookie(self, tokens: _Tokens, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and tokens.new_form_cookie:
                cookie: SimpleCookie = SimpleCookie()
                cookie[self.form_cookie] = tokens.new_form_cookie
                morsel = cookie[self.form_cookie]
                morsel["path"] = "/"
                morsel["httponly"] = True
                morsel["samesite"] = "Lax"
                if self.secure:
                    morsel["secure"] = True
                MutableHeaders(scope=message).append("set-cookie", morsel.output(header="").strip())
            await send(message)

        return sending


async def _form_token_of(scope: Scope, receive: Receive) -> tuple[bytes | None, str | None]:
    """The request body (to hand on unchanged) and the csrf_token field in it, if any."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None, None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return b"", None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    content_type = HTTPConnection(scope).headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("latin-1"), max_num_fields=1000).get(FIELD)
        return body, values[0] if values else None
    if content_type.startswith("multipart/form-data"):
        request = Request(scope, _replay(body, _closed))
        try:
            async with request.form(max_files=100, max_fields=1000) as form:
                value = form.get(FIELD)
                return body, value if isinstance(value, str) else None
        except Exception:
            return body, None
    return body, None


async def _closed() -> Message:
    return {"type": "http.disconnect"}


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replaying() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replaying


async def _refuse(refusal: Refusal, scope: Scope, send: Send) -> None:
    response = refusal(HTTPConnection(scope))

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, nothing, send)
