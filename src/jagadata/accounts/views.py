"""Sign-in pages: /admin/login (password, then a TOTP or recovery code), the one-time link
where a person sets a password and enrols TOTP, and /admin/account (sessions, sign out)."""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.requests import HTTPConnection
from starlette.routing import Match

from jagadata.accounts import ratelimit, service, sessions, signin, totp
from jagadata.accounts.deps import SIGN_IN_PATH, CurrentUser, SignInRequired, now_of, settings_of
from jagadata.accounts.models import UserSession
from jagadata.accounts.roles import ROLE_LABELS
from jagadata.accounts.templating import _t, render
from jagadata.config import Settings
from jagadata.db import atomic
from jagadata.i18n import N_
from jagadata.web.deps import SessionDep
from jagadata.web.templating import choose_language

router = APIRouter(include_in_schema=False)

PENDING_COOKIE: Final = "jd_pending"
SECURE_PENDING_COOKIE: Final = "__Host-jd_pending"
LANDING: Final = "/admin/"
ACCOUNT: Final = "/admin/account"
WELCOME_SCOPE: Final = "sign_in_link.address"

Field = Annotated[str, Form(max_length=1100)]
NextField = Annotated[str, Form(max_length=2000)]


def _client(request: Request) -> signin.Client:
    return signin.Client(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


def _pending_cookie(settings: Settings) -> str:
    return SECURE_PENDING_COOKIE if settings.secure_cookies else PENDING_COOKIE


def _set_cookie(response: Response, name: str, value: str, settings: Settings) -> None:
    response.set_cookie(
        name, value, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
    )


def _forget_cookie(response: Response, name: str, settings: Settings) -> None:
    """Delete a cookie with the attributes it was set with (a `__Host-` one needs Secure)."""
    response.delete_cookie(
        name, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax"
    )


def landing(request: Request) -> str:
    """The console's home when the app serves one, else the account page."""
    scope = {"type": "http", "path": LANDING, "method": "GET", "root_path": "", "headers": []}
    routes = request.app.router.routes
    if any(route.matches(scope)[0] is Match.FULL for route in routes):
        return LANDING
    return ACCOUNT


def safe_next(value: str | None, request: Request) -> str:
    """Where to go after signing in: a console path on this site, never elsewhere."""
    if value and value.startswith("/admin/") and not value.startswith("//") and "\\" not in value:
        return value
    return landing(request)


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers={"cache-control": "no-store"})


def _page(
    request: HTTPConnection,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    lang = choose_language(request)
    return render(
        request, template, lang=lang, status_code=status_code, context=context, headers=headers
    )


def _locked(request: Request, limited: ratelimit.Limited) -> Response:
    minutes = max(1, (limited.retry_after_seconds + 59) // 60)
    return _page(
        request,
        "accounts/locked.html",
        status_code=429,
        headers={"retry-after": str(limited.retry_after_seconds)},
        minutes=minutes,
    )


def csrf_refusal(connection: HTTPConnection) -> Response:
    """The page for a form sent without a valid token (web.csrf): nothing was changed."""
    return _page(connection, "accounts/csrf_failed.html", status_code=403)


# --- password ---------------------------------------------------------------------------------


@router.get(SIGN_IN_PATH)
def login_page(
    request: Request, next: str | None = None, signed_out: str | None = None
) -> Response:
    return _page(
        request,
        "accounts/login.html",
        next=safe_next(next, request),
        error=None,
        signed_out=signed_out,
    )


@router.post(SIGN_IN_PATH)
def login(
    request: Request, session: SessionDep, email: Field, password: Field, next: NextField = ""
) -> Response:
    settings = settings_of(request)
    target = safe_next(next, request)
    try:
        with atomic(session):
            started = signin.check_password(
                session=session,
                email=email,
                password=password,
                timeouts=sessions.Timeouts.of(settings),
                client=_client(request),
                now=now_of(request),
            )
    except ratelimit.Limited as limited:
        return _locked(request, limited)
    if started is None:
        return _page(
            request,
            "accounts/login.html",
            status_code=401,
            next=target,
            error="credentials",
            signed_out=None,
        )
    response = _redirect(f"{SIGN_IN_PATH}/verify?next={quote(target, safe='/')}")
    _set_cookie(response, _pending_cookie(settings), started[1], settings)
    return response


# --- second factor ----------------------------------------------------------------------------


def _pending_session(request: Request, session: SessionDep) -> UserSession | None:
    settings = settings_of(request)
    return sessions.resolve(
        session=session,
        token=request.cookies.get(_pending_cookie(settings)),
        timeouts=sessions.Timeouts.of(settings),
        now=now_of(request),
        stage=sessions.AWAITING_SECOND_FACTOR,
    )


@router.get(f"{SIGN_IN_PATH}/verify")
def verify_page(request: Request, session: SessionDep, next: str | None = None) -> Response:
    if _pending_session(request, session) is None:
        return _redirect(SIGN_IN_PATH)
    return _page(request, "accounts/verify.html", next=safe_next(next, request), error=None)


@router.post(f"{SIGN_IN_PATH}/verify")
def verify(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Form(max_length=40)],
    next: NextField = "",
) -> Response:
    settings = settings_of(request)
    target = safe_next(next, request)
    pending = _pending_session(request, session)
    if pending is None:
        return _redirect(SIGN_IN_PATH)
    try:
        with atomic(session):
            token = signin.check_second_factor(
                session=session,
                pending=pending,
                code=code,
                timeouts=sessions.Timeouts.of(settings),
                client=_client(request),
                now=now_of(request),
            )
    except ratelimit.Limited as limited:
        with atomic(session):
            sessions.end(session=session, user_session=pending, now=now_of(request))
        response = _locked(request, limited)
        _forget_cookie(response, _pending_cookie(settings), settings)
        return response
    if token is None:
        if _pending_session(request, session) is None:  # locked out by this failure
            return _redirect(SIGN_IN_PATH)
        return _page(request, "accounts/verify.html", status_code=401, next=target, error="code")
    response = _redirect(target)
    _set_cookie(response, sessions.cookie_name(settings), token, settings)
    _forget_cookie(response, _pending_cookie(settings), settings)
    return response


# --- one-time link: set a password and enrol TOTP ---------------------------------------------


def _welcome_page(
    request: Request,
    *,
    token: str,
    email: str,
    secret: str,
    error: str | None,
    status_code: int = 200,
) -> Response:
    lang = choose_language(request)
    uri = totp.provisioning_uri(secret, account=email)
    return render(
        request,
        "accounts/welcome.html",
        lang=lang,
        status_code=status_code,
        context={
            "token": token,
            "email": email,
            "qr": totp.qr_svg(uri, label=_t(lang, "QR code for your authenticator app")),
            "secret": totp.grouped(secret),
            "error": error,
        },
    )


def _link_invalid(request: Request) -> Response:
    return _page(request, "accounts/link_invalid.html", status_code=404)


@router.get("/admin/welcome/{token}")
def welcome_page(token: str, request: Request, session: SessionDep) -> Response:
    try:
        with atomic(session):
            link = service.open_sign_in_link(session=session, token=token, now=now_of(request))
    except service.LinkInvalid:
        return _link_invalid(request)
    assert link.pending_totp_secret is not None
    return _welcome_page(
        request, token=token, email=link.user.email, secret=link.pending_totp_secret, error=None
    )


@router.post("/admin/welcome/{token}")
def welcome(
    token: str,
    request: Request,
    session: SessionDep,
    password: Field,
    password_again: Field,
    code: Annotated[str, Form(max_length=40)],
) -> Response:
    now = now_of(request)
    client = _client(request)
    lang = choose_language(request)
    try:
        ratelimit.check(session=session, scope=WELCOME_SCOPE, key=client.address_key, now=now)
        if password != password_again:
            raise service.EnrolmentRefused(
                N_("The two passwords are not the same; type the same password twice.")
            )
        with atomic(session):
            _user, codes = service.complete_sign_in_link(
                session=session,
                token=token,
                password=password,
                code=code,
                now=now,
                ip=client.ip,
                user_agent=client.user_agent,
            )
    except ratelimit.Limited as limited:
        return _locked(request, limited)
    except service.LinkInvalid:
        return _link_invalid(request)
    except service.EnrolmentRefused as refused:
        with atomic(session):
            ratelimit.record_failure(
                session=session,
                scope=WELCOME_SCOPE,
                key=client.address_key,
                policy=ratelimit.SIGN_IN_LINK,
                now=now,
            )
        try:
            link = service.open_sign_in_link(session=session, token=token, now=now)
        except service.LinkInvalid:
            return _link_invalid(request)
        assert link.pending_totp_secret is not None
        return _welcome_page(
            request,
            token=token,
            email=link.user.email,
            secret=link.pending_totp_secret,
            error=_t(lang, refused.reason),
            status_code=422,
        )
    return _page(request, "accounts/recovery_codes.html", codes=codes, sign_in=SIGN_IN_PATH)


# --- the account page -------------------------------------------------------------------------


@router.get(ACCOUNT)
def account_page(request: Request, session: SessionDep, signed_in: CurrentUser) -> Response:
    now = now_of(request)
    return _page(
        request,
        "accounts/account.html",
        user=signed_in.user,
        current=signed_in.user_session,
        sessions=sessions.live_sessions(session=session, user_id=signed_in.user.id, now=now),
        organisations=service.organisations_of(session=session, user_id=signed_in.user.id),
        role_labels=ROLE_LABELS,
    )


@router.post("/admin/logout")
def logout(request: Request, session: SessionDep, signed_in: CurrentUser) -> Response:
    settings = settings_of(request)
    with atomic(session):
        signin.sign_out(
            session=session,
            user_session=signed_in.user_session,
            client=_client(request),
            now=now_of(request),
        )
    response = _redirect(f"{SIGN_IN_PATH}?signed_out=here")
    _forget_cookie(response, sessions.cookie_name(settings), settings)
    return response


@router.post(f"{ACCOUNT}/sign-out-everywhere")
def sign_out_everywhere(request: Request, session: SessionDep, signed_in: CurrentUser) -> Response:
    settings = settings_of(request)
    with atomic(session):
        signin.sign_out_everywhere(
            session=session, user=signed_in.user, client=_client(request), now=now_of(request)
        )
    response = _redirect(f"{SIGN_IN_PATH}?signed_out=everywhere")
    _forget_cookie(response, sessions.cookie_name(settings), settings)
    return response


# --- wiring -----------------------------------------------------------------------------------


async def _sign_in_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, SignInRequired)
    location = f"{SIGN_IN_PATH}?next={quote(error.next_path, safe='/')}"
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": location})
    return _redirect(location)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the sign-in pages, the API-key endpoint and CSRF protection to `app`.
    Call it before the app's outer middleware (security headers, error page) is added."""
    from jagadata.accounts import key_views
    from jagadata.i18n import LANGUAGES
    from jagadata.web.csrf import CsrfMiddleware, install_template_globals
    from jagadata.web.templating import environment

    app.include_router(router)
    app.include_router(key_views.api_router)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_middleware(CsrfMiddleware, settings=settings, refusal=csrf_refusal)
    install_template_globals(environment(lang) for lang in LANGUAGES)
