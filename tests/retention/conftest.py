"""Retention fixtures: the accounts tests' people and the console signed in, shared rather
than copied."""

from __future__ import annotations

import sys
from pathlib import Path

for _shared in ("accounts", "audit", "console"):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / _shared))

from accounts_fixtures import clock, faker_id, sessions_of, web  # noqa: E402

__all__ = ["clock", "faker_id", "sessions_of", "web"]
