"""Console fixtures: the accounts tests' helpers and fixtures (people who signed up through
their one-time link, signing in with TOTP, the app on a clock) and the audit tests' attacker,
shared rather than copied."""

from __future__ import annotations

import sys
from pathlib import Path

for _shared in ("accounts", "audit"):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / _shared))

from accounts_fixtures import clock, faker_id, sessions_of, web  # noqa: E402

__all__ = ["clock", "faker_id", "sessions_of", "web"]
