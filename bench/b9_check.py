"""B9: `jagadata check` on a manifest with 500 purposes and 2,000 mapped columns (target < 1 s).

    .venv/bin/python bench/b9_check.py [--runs 7] [--seed 9]

Generates a valid manifest from a seed (2,000 categories standing in for mapped columns, each
held by one of 100 systems and covered by retention rules; 500 purposes, 40 recipients, some of
them abroad), then times `load_manifest` + `run_checks` against the lower bound measured in the
same run: parsing the same YAML into plain Python with libyaml (`yaml.load`, CSafeLoader), the
least any loader must do before it can check anything.
Prints one line and writes bench/results/b9.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from jagadata.checks import RULES, run_checks
from jagadata.manifest import load_manifest

PARSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
RESULTS = Path(__file__).resolve().parent / "results" / "b9.json"
PURPOSES = 500
CATEGORIES = 2_000
SYSTEMS = 100
RECIPIENTS = 40
RETENTION_RULES = 50
BASES = ["contract", "consent", "legitimate_interest", "legal_obligation"]
COUNTRIES = ["ID", "ID", "ID", "SG", "US", "JP", "DE"]


def generate(seed: int) -> tuple[str, dict[str, int]]:
    """A valid manifest in YAML, the same for the same seed, and the findings it must produce."""
    rng = random.Random(seed)
    short_retention = 0
    out: list[str] = [
        "jagadata: 1",
        "organisation:",
        "  slug: b9-bench",
        "  name: PT Bench Sembilan",
        "  legal_form: pt",
        "  address: Jakarta",
        "  email: privasi@b9.example",
        "  large_scale: true",
        "  dpo: {name: Petugas PDP, email: dpo@b9.example}",
        "languages: [id, en]",
        "policy: {effective: 2026-01-01}",
        "data_subjects:",
        "  - {id: customers, name: {id: Pelanggan, en: Customers}}",
        "  - {id: pupils, name: {id: Siswa, en: Pupils}, children: true}",
        "data:",
        "  categories:",
    ]
    for i in range(CATEGORIES):
        specific = rng.random() < 0.05
        out.append(f"    - id: col_{i:04d}")
        out.append(f"      name: {{id: Kolom {i}, en: Column {i}}}")
        out.append(f"      items: [{{id: nilai {i}, en: value {i}}}]")
        out.append("      source: " + rng.choice(["direct", "automatic"]))
        if specific:
            out.append("      sensitivity: specific")
            out.append("      specific_type: " + rng.choice(["health", "financial", "child"]))
        out.append("      subjects: [" + rng.choice(["customers", "pupils"]) + "]")
    out.append("purposes:")
    for p in range(PURPOSES):
        basis = rng.choice(BASES)
        columns = [f"col_{(p * 4 + k) % CATEGORIES:04d}" for k in range(4)]
        recipients = sorted({f"rcp_{rng.randrange(RECIPIENTS):02d}" for _ in range(2)})
        out.append(f"  - id: purpose_{p:03d}")
        out.append(f"    name: {{id: Tujuan {p}, en: Purpose {p}}}")
        out.append(f"    legal_basis: {basis}")
        out.append(f"    categories: [{', '.join(columns)}]")
        out.append(f"    recipients: [{', '.join(recipients)}]")
        if basis == "consent":
            out.append(f"    consent: {{text: {{id: Saya setuju {p}, en: I agree {p}}}, "
                       "withdrawal: [web], collected_via: [web_form]}")
        elif basis == "legitimate_interest":
            out.append(f"    legitimate_interest: {{id: Kepentingan {p}, en: Interest {p}}}")
        elif basis == "legal_obligation":
            out.append("    legal_obligation: {id: UU Perpajakan, en: Tax law}")
        if rng.random() < 0.5:
            out.append("    dpia: {status: completed, completed_on: 2025-12-01}")
    out.append("recipients:")
    abroad: list[tuple[str, str]] = []
    for r in range(RECIPIENTS):
        country = rng.choice(COUNTRIES)
        out.append(f"  - id: rcp_{r:02d}")
        out.append(f"    name: Penerima {r}")
        out.append("    role: processor")
        out.append(f"    service: {{id: layanan {r}, en: service {r}}}")
        out.append(f"    countries: [{country}]")
        out.append(f"    categories: [col_{r:04d}, col_{r + 1:04d}]")
        out.append("    safeguards: [contract]")
        out.append("    written_instructions: true")
        out.append("    sub_processors: written_approval")
        if country != "ID":
            abroad.append((f"rcp_{r:02d}", country))
    out.append("transfers:" if abroad else "transfers: []")
    for recipient, country in abroad:
        out.append(f"  - {{recipient: {recipient}, countries: [{country}], "
                   "basis: binding_safeguards, safeguards: [standard_clauses]}")
    out.append("retention:")
    per_rule = CATEGORIES // RETENTION_RULES
    for t in range(RETENTION_RULES):
        columns = ", ".join(f"col_{c:04d}" for c in range(t * per_rule, (t + 1) * per_rule))
        period = rng.choice(["account_closed + 5y", "transaction + 10y", "24m"])
        short_retention += period == "24m"
        out.append(f"  - {{id: keep_{t:02d}, name: {{id: Simpan {t}, en: Keep {t}}}, "
                   f"categories: [{columns}], period: '{period}'}}")
    out.extend([
        "security: {measures: [{kind: encryption_in_transit}, {kind: encryption_at_rest}]}",
        "children: {served: true, parental_consent: required, "
        "verification: {id: Kode untuk orang tua, en: A code for parents}}",
        "breach: {notify_subjects_within: 72h, notify_authority_within: 72h, channels: [email]}",
        "changes: {channels: [website], advance_notice: 14d}",
        "rights: {channels: [{kind: web}], response: {fulfil_within: 30d}}",
        "governing_law: {complaint_authority: {name: {id: Komdigi, en: Komdigi}}}",
        "systems:",
    ])
    per_system = CATEGORIES // SYSTEMS
    for s in range(SYSTEMS):
        columns = ", ".join(f"col_{c:04d}" for c in range(s * per_system, (s + 1) * per_system))
        out.append(f"  - {{id: table_{s:03d}, name: tabel_{s}, kind: database, "
                   f"categories: [{columns}]}}")
    expected = {"PDP030": short_retention, "PDP035": 1, "PDP029": 0, "PDP009": 0, "PDP022": 0}
    return "\n".join(out) + "\n", expected


def _timed(action: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = action()
    return (time.perf_counter() - start) * 1000, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    text, expected = generate(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "b9.yaml"
        path.write_text(text, encoding="utf-8")
        loaded = load_manifest(path)
        run_checks(loaded, lang="id")  # warm up: catalogues, imports
        parse_ms: list[float] = []
        load_ms: list[float] = []
        check_ms: list[float] = []
        findings: list[Any] = []
        for _ in range(args.runs):
            parse_ms.append(_timed(lambda: yaml.load(path.read_text("utf-8"), Loader=PARSER))[0])
            elapsed, loaded = _timed(lambda: load_manifest(path))
            load_ms.append(elapsed)
            elapsed, findings = _timed(partial(run_checks, loaded, lang="id"))
            check_ms.append(elapsed)
    manifest = loaded.manifest
    if len(manifest.purposes) != PURPOSES or len(manifest.data.categories) != CATEGORIES:
        sys.exit("b9_check: the generated manifest does not have the intended size")
    found = {code: sum(f.code == code for f in findings) for code in expected}
    if found != expected:
        sys.exit(f"b9_check: wrong findings {found}, expected {expected}")
    total = [a + b for a, b in zip(load_ms, check_ms, strict=True)]
    median_total = statistics.median(total)
    median_parse = statistics.median(parse_ms)
    ratio = median_total / median_parse
    result = {
        "benchmark": "b9_check",
        "workload": {"purposes": PURPOSES, "categories": CATEGORIES, "systems": SYSTEMS,
                     "recipients": RECIPIENTS, "yaml_bytes": len(text.encode()),
                     "rules": len(RULES), "findings": len(findings), "verified": found,
                     "seed": args.seed},
        "runs": args.runs,
        "median_ms": {"load_and_check": round(median_total, 1),
                      "load_manifest": round(statistics.median(load_ms), 1),
                      "run_checks": round(statistics.median(check_ms), 1),
                      "yaml_parse": round(median_parse, 1)},
        "ratio_vs_yaml_parse": round(ratio, 2),
        "target_ms": 1000,
        "meets_target": median_total < 1000,
        "python": platform.python_version(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    checks_only = statistics.median(check_ms)
    sys.stdout.write(f"b9_check: {median_total:.0f} ms (ratio {ratio:.2f} vs yaml_parse)\n")
    sys.stdout.write(f"b9_run_checks: {checks_only:.0f} ms "
                     f"(ratio {checks_only / median_parse:.3f} vs yaml_parse)\n")


if __name__ == "__main__":
    main()
