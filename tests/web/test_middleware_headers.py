"""The pure ASGI middleware on every response: security headers added once, a response's own
Content-Security-Policy kept (whatever the case of its name), other headers untouched; an
unexpected error becomes a short JSON or HTML page with a reference, never a traceback."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, Router
from starlette.testclient import TestClient

from jagadata.web.middleware import (
    SECURITY_HEADERS,
    ErrorPageMiddleware,
    SecurityHeadersMiddleware,
    with_security_headers,
)


async def _plain(_request: Request) -> Response:
    return PlainTextResponse("halo", headers={"x-trace": "a", "set-cookie": "jd=1"})


async def _own_policy(_request: Request) -> Response:
    return Response("<p>", media_type="text/html", headers={"Content-Security-Policy": "img-src *"})


async def _broken(_request: Request) -> Response:
    raise RuntimeError("rahasia: 0812-3456-7890")


def _client() -> TestClient:
    app = Router(
        routes=[
            Route("/plain", _plain),
            Route("/own", _own_policy),
            Route("/api/v1/broken", _broken),
            Route("/broken", _broken),
            Route("/json", lambda _r: JSONResponse({"ok": True})),
        ]
    )
    return TestClient(SecurityHeadersMiddleware(ErrorPageMiddleware(app)),
                      raise_server_exceptions=False)  # fmt: skip


def test_every_security_header_is_added_once_and_others_are_kept() -> None:
    response = _client().get("/plain")
    assert response.text == "halo"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get_list(name) == [value]
    assert response.headers["x-trace"] == "a" and response.headers["set-cookie"] == "jd=1"


def test_a_response_keeps_its_own_content_security_policy() -> None:
    response = _client().get("/own")
    assert response.headers.get_list("content-security-policy") == ["img-src *"]
    assert response.headers["x-frame-options"] == "DENY"


def test_raw_headers_are_merged_in_one_pass() -> None:
    merged = with_security_headers([(b"X-Frame-Options", b"SAMEORIGIN"), (b"a", b"1")])
    assert merged[:2] == [(b"X-Frame-Options", b"SAMEORIGIN"), (b"a", b"1")]
    names = [name for name, _ in merged]
    assert b"x-frame-options" not in names
    assert len(names) == len(set(n.lower() for n in names)) == 1 + len(SECURITY_HEADERS)


def test_an_error_becomes_a_short_answer_with_a_reference() -> None:
    client = _client()
    api = client.get("/api/v1/broken")
    assert api.status_code == 500 and api.json()["detail"] == "internal error"
    assert len(api.json()["reference"]) == 8
    page = client.get("/broken", headers={"accept-language": "id"})
    assert page.status_code == 500 and "text/html" in page.headers["content-type"]
    for answer in (api, page):
        assert "rahasia" not in answer.text and "Traceback" not in answer.text
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
