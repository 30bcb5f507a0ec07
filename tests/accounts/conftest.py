"""Accounts fixtures: the app on a clock the test moves, a browser-like client, generated people
(defined in accounts_fixtures, which the console's tests share)."""

from __future__ import annotations

from accounts_fixtures import clock, faker_id, sessions_of, web

__all__ = ["clock", "faker_id", "sessions_of", "web"]
