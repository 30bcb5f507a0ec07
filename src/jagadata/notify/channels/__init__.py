"""Delivery channels: each sends one message or raises why not, in words without personal data."""

from __future__ import annotations

import re
from typing import Final

_EMAIL: Final = re.compile(r"[^\s<>\"'(),;:@]+@[^\s<>\"'(),;:@]+")
_LONG_NUMBER: Final = re.compile(r"\+?\d[\d\s\-]{6,}\d")
MAX_REASON: Final = 500


def redact(text: str) -> str:
    """`text` without anything that looks like an email address or a phone number, shortened."""
    text = _LONG_NUMBER.sub("[number]", _EMAIL.sub("[address]", text))
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


class DeliveryFailed(Exception):
    """Sending did not work; `reason` is safe to store and show (no personal data)."""

    permanent = False

    def __init__(self, reason: str) -> None:
        self.reason = redact(reason)
        super().__init__(self.reason)


class TemporaryFailure(DeliveryFailed):
    """Worth trying again later: the server was busy, down, slow, or not configured yet."""


class PermanentFailure(DeliveryFailed):
    """Trying again cannot help (an address or request the provider refuses): dead at once."""

    permanent = True
