"""The rule reference, docs/checks.md, generated from the rules so the two never drift apart.

    .venv/bin/python -m jagadata.checks.reference > docs/checks.md
"""

from __future__ import annotations

import sys

from jagadata.checks import RULES
from jagadata.checks.model import Rule
from jagadata.checks.reporters import JSON_FORMAT_VERSION, SARIF_LEVELS

_INTRO = """\
# `jagadata check`: the UU PDP rule reference

`jagadata check` reads a privacy manifest and reports where it falls short of Indonesia's
Personal Data Protection Law (UU PDP, Law 27/2022). Every rule cites the articles it comes from
and says how to fix what it finds. Codes are stable: a code is never reused for another rule.

This file is generated from the rules themselves; do not edit it by hand:

    .venv/bin/python -m jagadata.checks.reference > docs/checks.md

## Running it

    jagadata check MANIFEST [--format text|json|sarif] [--lang id|en|fr]
                            [--fail-on error|warning] [-o FILE]

- `--format text` (default) prints `file:line:col  SEVERITY  CODE  message  (articles)` with the
  fix below each finding and a summary line; `json` and `sarif` are for tools (below).
- `--lang` sets the language of messages; the default is `JAGADATA_LANG`, else Indonesian.
- `--fail-on` chooses the least severe finding that makes the command fail (default `error`).
- `-o FILE` writes the report to FILE and prints only the summary.

Exit status: `0` no finding at or above `--fail-on`; `1` at least one; `2` the manifest is
invalid (its errors are printed with their line and column, as by `jagadata manifest validate`).

Severities: **error** — the manifest breaks a duty of the law; **warning** — it risks breaking
one or leaves people uninformed; **info** — a question for a person to decide, such as a conflict
between UU PDP and an older regulation that jagadata never settles silently (UU PDP Art. 75).

From Python:

```python
from jagadata.checks import RULES, Finding, Severity, run_checks
from jagadata.manifest import load_manifest

findings: list[Finding] = run_checks(load_manifest("privacy.yaml"), lang="id")
```

Findings are sorted by line, column and code. A `Finding` carries `code`, `severity`,
`message` and `hint` (in the language asked for), `articles`, `path` (e.g.
`("purposes", 2, "legal_basis")`), `line` and `column` (1-based) and `file`.
"""

_FORMATS = f"""\
## JSON report (`--format json`)

A stable shape, version {JSON_FORMAT_VERSION}:

```json
{{
  "format": "jagadata-check",
  "version": {JSON_FORMAT_VERSION},
  "tool": {{"name": "jagadata", "version": "0.1.0"}},
  "file": "examples/la-gelato-academy.yaml",
  "lang": "en",
  "summary": {{"error": 0, "warning": 4, "info": 3, "total": 7}},
  "findings": [
    {{
      "code": "PDP035",
      "name": "response-weaker-than-law",
      "severity": "warning",
      "message": "You promise 30 days for: ...",
      "hint": "Promise 72h or less for these rights ...",
      "articles": [{{"law": "uu-pdp", "article": "32(2)", "citation": "Art. 32(2) UU PDP"}}],
      "citation": "Art. 30(1), Art. 32(2), Art. 40(2), Art. 41(1) UU PDP",
      "path": "rights.response.fulfil_within",
      "path_parts": ["rights", "response", "fulfil_within"],
      "file": "examples/la-gelato-academy.yaml",
      "line": 405,
      "column": 20
    }}
  ]
}}
```

`law` is `uu-pdp` or `permenkominfo-20-2016`. New keys may be added; existing keys keep their
meaning while `version` stays {JSON_FORMAT_VERSION}.

## SARIF report (`--format sarif`)

A SARIF 2.1.0 log for code scanning (for example GitHub's `upload-sarif`): one run whose
`tool.driver.rules` lists every rule (`id`, `name`, `shortDescription`, `fullDescription`,
`help`, `helpUri`, `defaultConfiguration.level`, and `properties` with the articles), and one
result per finding with `ruleId`, `ruleIndex`, `level` ({", ".join(
    f"{severity.value} → {level}" for severity, level in SARIF_LEVELS.items())}), the message
with its citation, and the manifest location (`artifactLocation.uri`, `region.startLine`,
`region.startColumn`) plus the field path as a logical location.
"""


def _summary_table() -> str:
    rows = ["| code | severity | rule | articles |", "|---|---|---|---|"]
    for rule in RULES.values():
        rows.append(f"| [{rule.code}](#{rule.code.lower()}) | {rule.severity.value} | "
                    f"{rule.title_in('en')} | {rule.cite('en')} |")
    return "\n".join(rows)


def _section(rule: Rule) -> str:
    return (
        f"### {rule.code}\n\n"
        f"**{rule.title_in('en')}** (`{rule.name}`), severity **{rule.severity.value}**. "
        f"{rule.cite('en')}.\n\n"
        f"What it checks: {rule.description_in('en')}\n\n"
        f"How to fix: {rule.hint_in('en')}\n"
    )


def render_reference() -> str:
    """The whole of docs/checks.md."""
    sections = "\n".join(_section(rule) for rule in RULES.values())
    return (
        f"{_INTRO}\n## The rules ({len(RULES)})\n\n{_summary_table()}\n\n{sections}\n{_FORMATS}"
    )


if __name__ == "__main__":
    sys.stdout.write(render_reference())
