"""docs/checks.md documents every rule and is regenerated whenever a rule changes."""

from __future__ import annotations

from pathlib import Path

from jagadata.checks import RULES
from jagadata.checks.reference import render_reference

DOCS = Path(__file__).resolve().parents[2] / "docs" / "checks.md"


def test_every_rule_has_a_section_with_its_articles_and_fix() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for code, rule in RULES.items():
        assert f"### {code}\n" in text, f"{code} is missing from docs/checks.md"
        section = text.split(f"### {code}\n", 1)[1].split("\n### ", 1)[0]
        assert rule.name in section and rule.cite("en") in section
        assert "How to fix:" in section and rule.severity.value in section


def test_the_reference_is_up_to_date() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_reference(), (
        "docs/checks.md is stale: run .venv/bin/python -m jagadata.checks.reference "
        "> docs/checks.md"
    )
