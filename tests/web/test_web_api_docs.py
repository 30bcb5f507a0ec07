"""docs/api.md stays true: every route the app serves is documented there."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.routing import Mount, Route

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_endpoint_is_documented(app: FastAPI) -> None:
    text = DOC.read_text(encoding="utf-8")
    paths = []
    for route in app.routes:
        if isinstance(route, Mount):
            paths.append(f"{route.path}/")
        elif isinstance(route, Route):
            paths.append(route.path)
    undocumented = [p for p in paths if f"`GET {p}" not in text and f"`{p}`" not in text]
    assert not undocumented, f"document these in docs/api.md: {undocumented}"
