"""docs/policy.md stays true: every section id, every diff area and the exit codes are there."""

from __future__ import annotations

from policy_helpers import ROOT

from jagadata.policy.render import SECTION_IDS

DOC = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")


def test_every_section_is_documented() -> None:
    missing = [section_id for section_id in SECTION_IDS if f"| `{section_id}` |" not in DOC]
    assert not missing


def test_the_diff_and_its_exit_codes_are_documented() -> None:
    for code in ("**0**", "**1**", "**2**"):
        assert code in DOC
    assert "requires_fresh_consent" in DOC and "--format json" in DOC
    assert all(f'"{key}"' in DOC for key in ("area", "kind", "material", "article", "purposes"))
