"""The example manifests pass with no errors; MilleaLab's 2022 policy, as written, does not."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from jagadata.checks import Severity, run_checks
from jagadata.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
MILLEALAB_2022 = Path(__file__).resolve().parent / "fixtures" / "millealab-2022.yaml"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("lang", ["id", "en", "fr"])
def test_examples_have_no_errors(path: Path, lang: str) -> None:
    findings = run_checks(load_manifest(path), lang=lang)
    errors = [f"{f.location} {f.code} {f.message}" for f in findings
              if f.severity is Severity.ERROR]
    assert errors == []


def test_la_gelato_is_told_that_jagadata_applies_72_hours() -> None:
    findings = run_checks(load_manifest(ROOT / "examples" / "la-gelato-academy.yaml"), lang="en")
    (weaker,) = [f for f in findings if f.code == "PDP035"]
    assert weaker.severity is Severity.WARNING
    assert "30 days" in weaker.message and "jagadata applies the law's deadline" in weaker.message
    assert weaker.path == ("rights", "response", "fulfil_within")


def test_la_gelato_is_asked_to_weigh_permenkominfo_retention() -> None:
    loaded = load_manifest(ROOT / "examples" / "la-gelato-academy.yaml")
    review = [f for f in run_checks(loaded, lang="en") if f.code == "PDP030"]
    assert {f.severity for f in review} == {Severity.INFO}
    retention = loaded.manifest.retention
    assert {retention[int(f.path[1])].id for f in review} == {"marketing", "technical"}


def test_millealab_2022_fails_on_the_gaps_of_its_policy() -> None:
    findings = run_checks(load_manifest(MILLEALAB_2022), lang="en")
    assert {f.code for f in findings} == {
        "PDP001",  # no legal basis for orders, security, the dashboard, feedback
        "PDP003",  # the blanket consent cannot be withdrawn
        "PDP004",  # ... and exists only in English
        "PDP005",  # ... and is not recorded
        "PDP011",  # pupils' scores (children's data) with no DPIA
        "PDP014",  # large scale: other purposes to assess
        "PDP015",  # no data protection officer
        "PDP016",  # no parent's or guardian's consent
        "PDP018",  # no age or guardian verification
        "PDP029",  # no retention period at all
        "PDP031",  # no rights offered ...
        "PDP032",
        "PDP033",  # ... and no channel to exercise them
        "PDP036",  # nowhere to complain
        "PDP039",  # breach notice deadlines not stated
        "PDP042",  # no channel for breach notices
        "PDP044",  # changes "without prior notification"
        "PDP046",  # no encryption of stored data stated
    }
    tally = Counter(f.severity for f in findings)
    assert tally[Severity.ERROR] > 15
    purposes_without_basis = {f.path[1] for f in findings if f.code == "PDP001"}
    assert purposes_without_basis == {0, 1, 2, 4}
