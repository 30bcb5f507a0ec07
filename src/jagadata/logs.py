"""Logs without personal data: wrap a person's data in `Pii`, and let `configure_logging`
redact whatever slips through (emails, Indonesian phone numbers, NIKs).

    log.info("receipt sent to %s", Pii(email, "email"))   # -> receipt sent to ‹email:3fa2c1›

The token is a short keyed hash, stable within one process so that lines about the same
person can be correlated, and meaningless outside it (the key is random per process).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sys
from collections.abc import Callable
from typing import Final, TextIO

_PROCESS_KEY: Final = secrets.token_bytes(32)
_KIND: Final = re.compile(r"^[a-z][a-z_]{0,19}$")
TOKEN_HEX: Final = 6

EMAIL: Final = re.compile(r"[\w.+%'-]+(?:@|%40)[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
NIK: Final = re.compile(r"(?<![\w])\d{16}(?![\w])")
"""The 16-digit Indonesian identity number (Nomor Induk Kependudukan); card numbers too."""
PHONE: Final = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+62|62|0(?=8))(?:[ \-]?\(?\d\)?){9,13}"
    r"|\(0\d{2,3}\)(?:[ \-]?\d){6,8}"
    r"|0[2-9]\d{1,2}[ \-]?(?:[ \-]?\d){6,8}"
    r")(?![\w])"
)
"""Indonesian phone numbers: +62…, 62… or 08… followed by 9-13 digits, and landlines with an
area code, (0274) 123 4567 or 021-5551234. Spaces, dashes and brackets may separate digits;
dots may not, so an IP address such as 62.103.245.178 stays readable."""

DETECTORS: Final = (("email", EMAIL), ("nik", NIK), ("phone", PHONE))
"""Emails first: they may contain digits; NIKs before phones: a NIK is the longer run."""

HANDLER_NAME: Final = "jagadata"
DEFAULT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _normalised(kind: str, value: str) -> str:
    text = value.strip()
    if kind == "phone":
        digits = re.sub(r"\D", "", text)
        return "62" + digits[1:] if digits.startswith("0") else digits
    return text.casefold()


def pii_token(kind: str, value: object) -> str:
    """‹kind:xxxxxx›: the same value (however written) gives the same token in this process."""
    if value is None:
        return f"‹{kind}:-›"
    message = f"{kind}\x00{_normalised(kind, str(value))}".encode()
    return f"‹{kind}:{hmac.new(_PROCESS_KEY, message, hashlib.sha256).hexdigest()[:TOKEN_HEX]}›"


class Pii:
    """Personal data on its way into a log line: it prints as a token, never as itself.

    The value is not kept, so no attribute, `vars()` or debugger shows it.
    """

    __slots__ = ("_token", "kind")

    def __init__(self, value: object, kind: str = "value") -> None:
        if not _KIND.match(kind):
            raise ValueError("kind is a short lower-case word such as 'email' or 'phone'")
        self.kind = kind
        self._token = pii_token(kind, value)

    def __str__(self) -> str:
        return self._token

    def __repr__(self) -> str:
        return self._token

    def __format__(self, _spec: str) -> str:
        return self._token


def personal_data_kind(text: str) -> str | None:
    """'email', 'nik' or 'phone' when `text` contains something that looks like one, else None."""
    for kind, pattern in DETECTORS:
        if pattern.search(text):
            return kind
    return None


def redact(text: str) -> str:
    """`text` with every email, NIK and Indonesian phone number replaced by its token."""
    for kind, pattern in DETECTORS:
        text = pattern.sub(_token_of(kind), text)
    return text


LINK_SECRETS: Final = re.compile(
    r"(?P<keep>[?&](?:k|key|token)=|/(?:link|confirm|unsubscribe|receipts|r|welcome|guardian)/)"
    r"(?P<secret>[A-Za-z0-9_\-]{12,})"
)
"""The secret part of the links jagadata sends people (a request's status key, a confirmation,
withdrawal, receipt, guardian or sign-in token): whoever holds one may use it, so no log line
keeps it — an access log of `GET /o/x/requests/R-…?k=…` included."""


def redact_links(text: str) -> str:
    """`text` with the secrets of jagadata's links replaced by ‹secret›."""
    return LINK_SECRETS.sub(lambda found: f"{found['keep']}‹secret›", text)


def _token_of(kind: str) -> Callable[[re.Match[str]], str]:
    def token(found: re.Match[str]) -> str:
        return pii_token(kind, found.group(0))

    return token


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, arguments, exception and stack with personal data redacted,
    so every handler after it (whatever its formatter) sees only tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg!s} {record.args!s}"
        record.msg = redact_links(redact(message))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RedactingFormatter(logging.Formatter):
    """The last safety net: the whole formatted line is redacted (extra fields included)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_links(redact(super().format(record)))


def redact_handler(handler: logging.Handler) -> logging.Handler:
    """Add the redacting filter to a handler someone else installed (uvicorn's, for instance)."""
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter())
    return handler


def configure_logging(
    level: int | str = logging.INFO, *, stream: TextIO | None = None, fmt: str = DEFAULT_FORMAT
) -> logging.Handler:
    """Log to `stream` (stderr) at `level` through the redacting filter and formatter.

    Calling it again replaces jagadata's handler; handlers already on the root logger and on
    uvicorn's loggers get the redacting filter too.
    """
    root = logging.getLogger()
    for existing in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(existing)
        existing.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(RedactingFormatter(fmt))
    redact_handler(handler)
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        for other in logging.getLogger(name).handlers:
            redact_handler(other)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
