"""Console fixtures: the accounts tests' helpers and fixtures (people who signed up through
their one-time link, signing in with TOTP, the app on a clock), shared rather than copied."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "accounts"))

from accounts_fixtures import clock, faker_id, sessions_of, web

__all__ = ["clock", "faker_id", "sessions_of", "web"]
