"""Fixtures for the linter's tests: a manifest no rule fires on, and a way to lint a copy."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from jagadata.checks import Finding, run_checks
from jagadata.manifest import load_manifest_text

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

Lint = Callable[..., list[Finding]]


def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return data


_COMPLIANT = _read(FIXTURES / "compliant.yaml")


@pytest.fixture
def compliant() -> dict[str, Any]:
    """A fresh copy of tests/checks/fixtures/compliant.yaml as plain data, free to change."""
    return copy.deepcopy(_COMPLIANT)


def lint_raw(raw: dict[str, Any], lang: str = "en") -> list[Finding]:
    """Lint a manifest given as plain data (JSON is YAML, so the loader reads it as is)."""
    loaded = load_manifest_text(json.dumps(raw, default=str), file="m.yaml", lang="en")
    return run_checks(loaded, lang=lang)


@pytest.fixture
def lint() -> Lint:
    return lint_raw
