"""Reports for people, programs and code scanning: the text line, the JSON shape, valid SARIF."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import pytest
from rich.console import Console

from jagadata.checks import RULES, run_checks
from jagadata.checks.reporters import artifact_uri, render_text, summary, to_json, to_sarif
from jagadata.manifest import load_manifest

HERE = Path(__file__).resolve().parent
MILLEALAB_2022 = HERE / "fixtures" / "millealab-2022.yaml"
SARIF_SCHEMA = json.loads((HERE / "sarif-2.1.0-subset.schema.json").read_text(encoding="utf-8"))


def sarif_of(path: Path, lang: str) -> dict[str, Any]:
    findings = run_checks(load_manifest(path), lang=lang)
    document = to_sarif(findings, file=str(path.relative_to(HERE.parents[1])), lang=lang)
    return json.loads(json.dumps(document))


@pytest.mark.parametrize("lang", ["id", "en"])
def test_sarif_is_valid_against_the_2_1_0_schema(lang: str) -> None:
    document = sarif_of(MILLEALAB_2022, lang)
    validator = jsonschema.Draft7Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


def test_the_schema_rejects_what_sarif_forbids() -> None:
    document = sarif_of(MILLEALAB_2022, "en")
    result = document["runs"][0]["results"][0]
    result["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    result["level"] = "fatal"
    del document["runs"][0]["tool"]["driver"]["rules"][0]["id"]
    validator = jsonschema.Draft7Validator(SARIF_SCHEMA)
    assert len(list(validator.iter_errors(document))) == 3


def test_sarif_rules_and_results_agree() -> None:
    document = sarif_of(MILLEALAB_2022, "id")
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    for rule in rules:
        assert rule["name"] and rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"] and rule["help"]["text"]
        help_uri = urlparse(rule["helpUri"])
        assert help_uri.scheme == "https" and help_uri.fragment == rule["id"].lower()
        assert rule["properties"]["articles"]
    levels = {"error": "error", "warning": "warning", "info": "note"}
    assert run["results"]
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert result["level"] == levels[RULES[result["ruleId"]].severity.value]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "tests/checks/fixtures/millealab-2022.yaml"
        assert location["region"]["startLine"] >= 1 and location["region"]["startColumn"] >= 1
        assert "Pasal" in result["message"]["text"]
    assert run["language"] == "id"


def test_artifact_uris_are_relative_or_file_uris() -> None:
    assert artifact_uri("examples/la gelato.yaml") == "examples/la%20gelato.yaml"
    assert artifact_uri("/srv/m.yaml") == "file:///srv/m.yaml"


def test_json_report_has_the_documented_shape() -> None:
    findings = run_checks(load_manifest(MILLEALAB_2022), lang="en")
    document = json.loads(json.dumps(to_json(findings, file="m.yaml", lang="en")))
    assert document["format"] == "jagadata-check" and document["version"] == 1
    assert document["summary"]["total"] == len(findings) == len(document["findings"])
    assert document["summary"]["error"] == sum(f.severity.value == "error" for f in findings)
    first = document["findings"][0]
    assert set(first) == {"code", "name", "severity", "message", "hint", "articles", "citation",
                          "path", "path_parts", "file", "line", "column"}
    assert set(first["articles"][0]) == {"law", "article", "citation"}
    documented = (HERE.parents[1] / "docs" / "checks.md").read_text(encoding="utf-8")
    for key in first:
        assert f'"{key}"' in documented


def test_text_report_lines_read_file_line_col_severity_code_message_articles() -> None:
    findings = run_checks(load_manifest(MILLEALAB_2022), lang="id")
    buffer = io.StringIO()
    console = Console(file=buffer, no_color=True, width=10_000, soft_wrap=True)
    render_text(findings, console=console, file="m.yaml", lang="id")
    lines = buffer.getvalue().splitlines()
    finding_lines = [line for line in lines if re.match(r"^\S+:\d+:\d+  ", line)]
    assert len(finding_lines) == len(findings)
    pattern = re.compile(r"^(\S+):(\d+):(\d+)  (KESALAHAN|PERINGATAN|INFO)  (PDP\d{3})  .+  "
                         r"\(Pasal .+\)$")
    for line, finding in zip(finding_lines, findings, strict=True):
        match = pattern.match(line)
        assert match, line
        assert match.group(5) == finding.code and int(match.group(2)) == finding.line
    assert sum(line.startswith("    ↳ ") for line in lines) == len(findings)
    assert lines[-1] == summary(findings, file="m.yaml", lang="id")


def test_summary_counts_by_severity_in_each_language() -> None:
    findings = run_checks(load_manifest(MILLEALAB_2022), lang="en")
    errors = sum(f.severity.value == "error" for f in findings)
    assert summary(findings, file="m.yaml", lang="en").startswith(f"m.yaml: {errors} errors, ")
    assert f"{errors} kesalahan" in summary(findings, file="m.yaml", lang="id")
    assert "no findings" in summary([], file="m.yaml", lang="en")
