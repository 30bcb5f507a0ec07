"""Findings are located in the file, sorted, translated, and the public API stays as promised."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from jagadata.checks import RULES, Finding, Severity, run_checks
from jagadata.law import Article
from jagadata.manifest import load_manifest, load_manifest_text

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_findings_point_at_the_line_and_column_written() -> None:
    path = FIXTURES / "millealab-2022.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    findings = run_checks(load_manifest(path), lang="en")
    (offered, *_) = [f for f in findings if f.code == "PDP031"]
    assert lines[offered.line - 1][offered.column - 1:].startswith("[]")
    assert lines[offered.line - 1].strip().startswith("offered:")
    (orders, *_) = [f for f in findings if f.code == "PDP001"]
    assert lines[orders.line - 1].strip() == "- id: orders"
    assert orders.file == str(path)


def test_findings_are_sorted_by_line_column_and_code() -> None:
    findings = run_checks(load_manifest(FIXTURES / "millealab-2022.yaml"), lang="id")
    assert findings == sorted(findings, key=lambda f: (f.line, f.column, f.code, f.field_path))
    again = run_checks(load_manifest(FIXTURES / "millealab-2022.yaml"), lang="id")
    assert findings == again


def test_a_finding_is_frozen_and_cites_articles() -> None:
    (finding, *_) = run_checks(load_manifest(FIXTURES / "millealab-2022.yaml"), lang="en")
    assert isinstance(finding, Finding)
    assert all(isinstance(a, Article) for a in finding.articles)
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.code = "PDP999"  # type: ignore[misc]


def test_severity_is_a_string_enum_in_order() -> None:
    assert [s.value for s in Severity] == ["error", "warning", "info"]
    assert Severity.ERROR.at_least(Severity.WARNING)
    assert not Severity.INFO.at_least(Severity.WARNING)


def test_select_runs_only_the_chosen_rules() -> None:
    loaded = load_manifest(FIXTURES / "millealab-2022.yaml")
    assert {f.code for f in run_checks(loaded, lang="en", select=["PDP001"])} == {"PDP001"}


def test_language_codes_are_normalised() -> None:
    loaded = load_manifest(FIXTURES / "millealab-2022.yaml")
    assert run_checks(loaded, lang="id-ID") == run_checks(loaded, lang="id")
    assert {f.lang for f in run_checks(loaded, lang="xx")} == {"id"}


def test_a_top_level_section_left_out_is_reported_at_the_start() -> None:
    text = (FIXTURES / "compliant.yaml").read_text(encoding="utf-8")
    start = text.index("breach:")
    end = text.index("changes:")
    loaded = load_manifest_text(text[:start] + text[end:], file="m.yaml")
    late = [f for f in run_checks(loaded, lang="en") if f.code == "PDP039"]
    assert len(late) == 2 and {(f.line, f.column) for f in late} == {(1, 1)}


def test_registry_entries_carry_title_severity_and_articles() -> None:
    rule = RULES["PDP001"]
    assert rule.severity is Severity.ERROR
    assert [a.short for a in rule.articles] == ["20(1)", "20(2)"]
    assert rule.help_uri().endswith("#pdp001")
    assert rule.title_in("id") == "Tujuan tanpa dasar pemrosesan"
    assert rule.title_in("en") == rule.title
