"""Errors of the consent API as JSON a developer can act on: a sentence, and every field with
its place and what is wrong (`events[3].purpose`), in the language of Accept-Language."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Final

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from jagadata.consent.validation import FieldError
from jagadata.i18n import N_, gettext, negotiate

INVALID: Final = N_("The request is not valid; see errors.")
UNREADABLE: Final = N_("The body cannot be read: send JSON in UTF-8.")
NOT_RECORDED: Final = N_("Nothing was recorded: the request is not valid; see errors.")


def request_language(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


def problem(request: Request, status: int, detail: str, errors: list[FieldError]) -> JSONResponse:
    """`{"detail": ..., "errors": [{"field", "message"}]}`, translated from the consent domain."""
    lang = request_language(request)
    body = {
        "detail": gettext(lang, detail, "consent"),
        "errors": [
            {"field": e.field, "message": _message(gettext(lang, e.message, "consent"), e.values)}
            for e in errors
        ],
    }
    return JSONResponse(body, status_code=status)


def _message(text: str, values: Mapping[str, Any]) -> str:
    """Placeholders filled; a message with none (pydantic's own) is left as it is."""
    return text.format(**values) if values else text


def field_of(location: tuple[Any, ...]) -> str:
    """Pydantic's location as a person writes it: ('body', 'events', 3, 'purpose') gives
    events[3].purpose; a header keeps its name (Idempotency-Key)."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header"):
        source, parts = parts[0], parts[1:]
        if source == "header" and parts:
            return "-".join(word.capitalize() for word in str(parts[0]).split("-"))
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not text:
            text = str(part)
        elif any(mark in str(part) for mark in "[-,"):
            continue  # pydantic's name for a member of a union
        else:
            text += f".{part}"
    return text or "body"


class ConsentRoute(APIRoute):
    """Validation errors in the consent API's own shape: every field with its place."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as error:
                if error.status_code != 400:
                    raise
                return problem(request, 400, UNREADABLE, [FieldError("body", UNREADABLE)])
            except RequestValidationError as invalid:
                errors = [
                    FieldError(field_of(tuple(error.get("loc", ()))), str(error.get("msg", "")))
                    for error in invalid.errors()
                ]
                return problem(request, 422, INVALID, errors)

        return route
