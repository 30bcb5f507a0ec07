"""Findings for people (Rich text), for programs (JSON) and for code scanning (SARIF 2.1.0)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any, Final
from urllib.parse import quote

from rich.console import Console
from rich.markup import escape

from jagadata import __version__
from jagadata.checks.model import RULES, Finding, Severity, _t, _tn
from jagadata.i18n import N_, Np_

JSON_FORMAT_VERSION: Final = 1
SARIF_SCHEMA: Final = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI: Final = "https://jagadata.id"
SARIF_LEVELS: Final = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_LABELS: Final = {Severity.ERROR: N_("ERROR"), Severity.WARNING: N_("WARNING"),
                  Severity.INFO: N_("INFO")}
_STYLES: Final = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_COUNTS: Final = {
    Severity.ERROR: Np_("{n} error", "{n} errors"),
    Severity.WARNING: Np_("{n} warning", "{n} warnings"),
    Severity.INFO: Np_("{n} note", "{n} notes"),
}


def counts(findings: Sequence[Finding]) -> dict[Severity, int]:
    tally = Counter(f.severity for f in findings)
    return {severity: tally.get(severity, 0) for severity in Severity}


def summary(findings: Sequence[Finding], *, file: str, lang: str) -> str:
    """One line: '<file>: 0 errors, 3 warnings, 2 notes.' or that nothing was found."""
    if not findings:
        return _t(lang, "{file}: no findings; the manifest meets all {count} rules jagadata "
                        "checks.").format(file=file, count=len(RULES))
    parts = [_tn(lang, *_COUNTS[s], n).format(n=n) for s, n in counts(findings).items()]
    return _t(lang, "{file}: {counts}.").format(file=file, counts=", ".join(parts))


def render_text(findings: Sequence[Finding], *, console: Console, file: str, lang: str) -> None:
    """`file:line:col  SEVERITY  PDP0xx  message  (Pasal ...)`, the fix below it, then a summary."""
    for finding in findings:
        style = _STYLES[finding.severity]
        label = _t(lang, _LABELS[finding.severity])
        console.print(
            f"[bold]{escape(finding.location)}[/bold]  [{style}]{escape(label)}[/{style}]  "
            f"[bold]{finding.code}[/bold]  {escape(finding.message)}  "
            f"[dim]({escape(finding.citation(lang))})[/dim]"
        )
        console.print(f"    ↳ {escape(finding.hint)}")
    console.print(escape(summary(findings, file=file, lang=lang)))


def to_json(findings: Sequence[Finding], *, file: str, lang: str) -> dict[str, Any]:
    """The stable JSON shape documented in docs/checks.md."""
    tally = counts(findings)
    return {
        "format": "jagadata-check",
        "version": JSON_FORMAT_VERSION,
        "tool": {"name": "jagadata", "version": __version__},
        "file": file,
        "lang": lang,
        "summary": {**{s.value: n for s, n in tally.items()}, "total": len(findings)},
        "findings": [f.as_dict() for f in findings],
    }


def to_sarif(findings: Sequence[Finding], *, file: str, lang: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: every rule in the driver, one result per finding."""
    index = {code: i for i, code in enumerate(RULES)}
    uri = artifact_uri(file)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "jagadata",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_descriptor(code, lang) for code in RULES],
                    }
                },
                "language": lang,
                "columnKind": "unicodeCodePoints",
                "artifacts": [{"location": {"uri": uri}, "mimeType": "application/yaml"}],
                "results": [_result(f, index[f.code], uri) for f in findings],
            }
        ],
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def artifact_uri(file: str) -> str:
    """A relative path stays relative (a URI reference); an absolute one becomes a file: URI."""
    path = PurePath(file)
    if path.is_absolute():
        return "file://" + quote(path.as_posix())
    return quote(path.as_posix())


def _descriptor(code: str, lang: str) -> dict[str, Any]:
    rule = RULES[code]
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.title_in(lang)},
        "fullDescription": {"text": rule.description_in(lang)},
        "help": {"text": rule.hint_in(lang)},
        "helpUri": rule.help_uri(),
        "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity]},
        "properties": {
            "tags": ["privacy", "uu-pdp"],
            "severity": rule.severity.value,
            "articles": [a.cite(lang) for a in rule.articles],
            "citation": rule.cite(lang),
        },
    }


def _result(finding: Finding, rule_index: int, uri: str) -> dict[str, Any]:
    fingerprint = hashlib.sha256(f"{finding.code}|{finding.field_path}".encode()).hexdigest()
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": SARIF_LEVELS[finding.severity],
        "message": {"text": f"{finding.message} ({finding.citation()})"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri, "index": 0},
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                },
                "logicalLocations": [{"fullyQualifiedName": finding.field_path}],
            }
        ],
        "partialFingerprints": {"jagadataFinding/v1": fingerprint[:32]},
        "properties": {
            "hint": finding.hint,
            "articles": [a.cite(finding.lang) for a in finding.articles],
        },
    }
