"""Target databases for the datastore engine: an organisation's own database on SQLite,
PostgreSQL and MariaDB, each a fresh scratch database dropped after the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scratch_databases import ENGINES, scratch_target


@pytest.fixture(params=ENGINES)
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty organisation database on each engine in turn."""
    with scratch_target(request.param, tmp_path / "target") as url:
        yield url
