"""Time-based one-time passwords (RFC 6238): secrets, the enrolment QR code, and verification
that accepts a code once only, within one 30-second step either side of now."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Final

import pyotp
import qrcode  # type: ignore[import-untyped]
from markupsafe import Markup, escape

ISSUER: Final = "jagadata"
INTERVAL: Final = 30
DIGITS: Final = 6
WINDOW: Final = 1
"""Steps accepted either side of now: a phone whose clock is up to 30 s off still works."""


def new_secret() -> str:
    """160 random bits in base32, as authenticator apps expect."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, *, account: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=account, issuer_name=issuer
    )


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def step_of(moment: datetime) -> int:
    return int(moment.timestamp()) // INTERVAL


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).at(moment)


def matching_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The step whose code `code` is, if it is within the window and later than `last_step`
    (so a code, once used, never works again); None otherwise."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    current = step_of(now)
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and (
            last_step is None or step > last_step
        ):
            found = step
    return found


def qr_svg(uri: str, *, label: str) -> Markup:
    """The URI as an inline SVG QR code: no image from elsewhere, no script, no inline style."""
    code = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(uri)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    path = "".join(
        f"M{x},{y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark
    )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="240" '
        f'height="240" role="img" aria-label="{escape(label)}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )
