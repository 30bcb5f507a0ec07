"""Each rule fires on a manifest that breaks it and stays silent on one that does not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jagadata.checks import RULES, Finding, Severity
from jagadata.law.facts import Right

Raw = dict[str, Any]
Lint = Callable[..., list[Finding]]


def entry(raw: Raw, section: str, entry_id: str) -> Raw:
    items: list[Raw] = raw["data"]["categories"] if section == "categories" else raw[section]
    return next(item for item in items if item["id"] == entry_id)


def without_right(raw: Raw, right: Right) -> None:
    raw["rights"]["offered"] = [r.value for r in Right if r is not right]


def set_in(raw: Raw, path: tuple[Any, ...], value: Any) -> None:
    node = raw
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def drop(raw: Raw, path: tuple[Any, ...]) -> None:
    node = raw
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]


def _cookie_purpose(raw: Raw, value: str | None) -> None:
    cookie = raw["cookies"][1]
    if value is None:
        del cookie["purpose_ref"]
    else:
        cookie["purpose_ref"] = value


def _table(raw: Raw, index: int) -> Raw:
    database = next(s for s in raw["systems"] if s["id"] == "shop_db")
    table: Raw = database["datastore"]["tables"][index]
    return table


def _unsafe_transfer(raw: Raw) -> None:
    raw["transfers"][0]["safeguards"] = []
    entry(raw, "recipients", "hosting")["safeguards"] = ["encryption"]


BREAKS: dict[str, Callable[[Raw], None]] = {
    "PDP001": lambda m: entry(m, "purposes", "orders").pop("legal_basis"),
    "PDP002": lambda m: entry(m, "purposes", "marketing").pop("consent"),
    "PDP003": lambda m: set_in(entry(m, "purposes", "marketing"), ("consent", "withdrawal"), []),
    "PDP004": lambda m: set_in(entry(m, "purposes", "marketing"), ("consent", "text"),
                               {"en": "I agree to receive promotions."}),
    "PDP005": lambda m: set_in(entry(m, "purposes", "marketing"), ("consent", "collected_via"), []),
    "PDP006": lambda m: entry(m, "purposes", "fraud").pop("legitimate_interest"),
    "PDP007": lambda m: entry(m, "purposes", "tax").pop("legal_obligation"),
    "PDP008": lambda m: set_in(entry(m, "purposes", "tax"), ("categories",), []),
    "PDP009": lambda m: m["data"]["categories"].append(
        {"id": "hobbies", "name": {"id": "Hobi", "en": "Hobbies"}, "source": "direct"}),
    "PDP010": lambda m: set_in(entry(m, "categories", "identity"), ("sensitivity",), "specific"),
    "PDP011": lambda m: entry(m, "purposes", "allergies").pop("dpia"),
    "PDP012": lambda m: entry(m, "purposes", "fraud").pop("dpia"),
    "PDP013": lambda m: set_in(entry(m, "purposes", "allergies"), ("dpia", "status"),
                               "in_progress"),
    "PDP014": lambda m: set_in(m, ("organisation", "large_scale"), True),
    "PDP015": lambda m: (set_in(m, ("organisation", "large_scale"), True),
                         drop(m, ("organisation", "dpo"))),
    "PDP016": lambda m: set_in(m, ("children", "parental_consent"), "not_applicable"),
    "PDP017": lambda m: set_in(entry(m, "purposes", "learning"), ("legal_basis",), "contract"),
    "PDP018": lambda m: drop(m, ("children", "verification")),
    "PDP019": lambda m: set_in(m, ("children", "minimum_age"), 13),
    "PDP020": lambda m: set_in(m, ("children", "served"), False),
    "PDP021": lambda m: m["transfers"][0].pop("basis"),
    "PDP022": lambda m: set_in(entry(m, "recipients", "hosting"), ("countries",),
                               ["ID", "SG", "US"]),
    "PDP023": _unsafe_transfer,
    "PDP024": lambda m: set_in(m, ("transfers", 0, "basis"), "consent"),
    "PDP025": lambda m: set_in(entry(m, "recipients", "hosting"), ("written_instructions",),
                               False),
    "PDP026": lambda m: set_in(entry(m, "recipients", "hosting"), ("sub_processors",),
                               "unrestricted"),
    "PDP027": lambda m: entry(m, "recipients", "partner").pop("joint_agreement"),
    "PDP028": lambda m: set_in(entry(m, "recipients", "partner"), ("categories",),
                               ["orders", "health"]),
    "PDP029": lambda m: set_in(entry(m, "retention", "accounts"), ("categories",), ["identity"]),
    "PDP030": lambda m: set_in(entry(m, "retention", "accounts"), ("period",), "24m"),
    "PDP031": lambda m: without_right(m, Right.ACCESS),
    "PDP032": lambda m: without_right(m, Right.PORTABILITY),
    "PDP033": lambda m: set_in(m, ("rights", "channels"), []),
    "PDP034": lambda m: without_right(m, Right.OBJECT_AUTOMATED),
    "PDP035": lambda m: set_in(m, ("rights", "response", "fulfil_within"), "30d"),
    "PDP036": lambda m: drop(m, ("governing_law", "complaint_authority")),
    "PDP037": lambda m: drop(m, ("systems", 0, "instructions", "access")),
    "PDP038": lambda m: set_in(m, ("breach", "notify_subjects_within"), "5d"),
    "PDP039": lambda m: drop(m, ("breach", "notify_authority_within")),
    "PDP040": lambda m: set_in(m, ("breach", "threshold"), "significant_impact"),
    "PDP041": lambda m: set_in(m, ("breach", "counted_from"), "occurrence"),
    "PDP042": lambda m: set_in(m, ("breach", "channels"), ["phone"]),
    "PDP043": lambda m: set_in(m, ("breach", "public_notice"), False),
    "PDP044": lambda m: drop(m, ("changes", "advance_notice")),
    "PDP045": lambda m: set_in(m, ("security", "measures"), []),
    "PDP046": lambda m: set_in(m, ("security", "measures"), [{"kind": "encryption_in_transit"}]),
    "PDP047": lambda m: _cookie_purpose(m, None),
    "PDP048": lambda m: _cookie_purpose(m, "fraud"),
    "PDP049": lambda m: set_in(entry(m, "purposes", "orders"), ("name",), "Memproses pesanan"),
    "PDP050": lambda m: set_in(_table(m, 0)["columns"][0], ("category",), "hobbies"),
    "PDP051": lambda m: _table(m, 1)["hold"].pop("retention"),
    "PDP052": lambda m: set_in(_table(m, 0)["identities"][0], ("kind",), "nik"),
}


def test_every_rule_has_a_breaking_case() -> None:
    assert set(BREAKS) == set(RULES)


def test_the_compliant_manifest_has_no_findings(compliant: Raw, lint: Lint) -> None:
    assert lint(compliant) == []


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_fires_only_when_broken(code: str, compliant: Raw, lint: Lint) -> None:
    assert code not in {f.code for f in lint(compliant)}
    BREAKS[code](compliant)
    fired = [f for f in lint(compliant) if f.code == code]
    assert fired, f"{code} did not fire"
    rule = RULES[code]
    for finding in fired:
        assert finding.severity is rule.severity
        assert finding.articles, "a finding cites at least one article"
        assert finding.message and finding.hint
        assert finding.line >= 1 and finding.column >= 1


@pytest.mark.parametrize("code", sorted(RULES))
def test_findings_read_in_indonesian(code: str, compliant: Raw, lint: Lint) -> None:
    BREAKS[code](compliant)
    english = [f for f in lint(compliant, "en") if f.code == code]
    indonesian = [f for f in lint(compliant, "id") if f.code == code]
    assert [f.path for f in english] == [f.path for f in indonesian]
    for en, id_ in zip(english, indonesian, strict=True):
        assert id_.message != en.message and id_.hint != en.hint
        assert "Pasal" in id_.citation() and "Art." in en.citation()


def test_rule_codes_are_stable_and_described() -> None:
    assert list(RULES) == sorted(RULES)
    assert all(code.startswith("PDP") and len(code) == 6 for code in RULES)
    names = [rule.name for rule in RULES.values()]
    assert len(set(names)) == len(names)
    for rule in RULES.values():
        assert rule.articles and rule.title and rule.description and rule.hint


def test_at_least_25_rules_of_each_kind_of_duty() -> None:
    assert len(RULES) >= 25
    assert {rule.severity for rule in RULES.values()} == set(Severity)


def test_missing_legal_basis_points_at_the_purpose(compliant: Raw, lint: Lint) -> None:
    BREAKS["PDP001"](compliant)
    (finding,) = [f for f in lint(compliant) if f.code == "PDP001"]
    assert finding.path == ("purposes", 0, "legal_basis")
    assert "'orders'" in finding.message
    assert [a.short for a in finding.articles] == ["20(1)", "20(2)"]


def test_weaker_response_says_jagadata_applies_the_law(compliant: Raw, lint: Lint) -> None:
    BREAKS["PDP035"](compliant)
    (finding,) = [f for f in lint(compliant, "id") if f.code == "PDP035"]
    assert finding.path == ("rights", "response", "fulfil_within")
    assert "30 hari" in finding.message and "3 × 24 jam" in finding.message
    assert {a.short for a in finding.articles} == {"30(1)", "32(2)", "40(2)", "41(1)"}


def test_a_per_right_promise_is_reported_where_it_is_written(compliant: Raw, lint: Lint) -> None:
    compliant["rights"]["response"]["per_right"] = {"access": "5d"}
    (finding,) = [f for f in lint(compliant) if f.code == "PDP035"]
    assert finding.path == ("rights", "response", "per_right", "access")
    assert [a.short for a in finding.articles] == ["32(2)"]


def test_working_days_are_weaker_than_clock_hours(compliant: Raw, lint: Lint) -> None:
    compliant["rights"]["response"]["calendar"] = "working_days"
    assert "PDP035" in {f.code for f in lint(compliant)}


def test_each_uncovered_country_of_a_recipient_is_named(compliant: Raw, lint: Lint) -> None:
    BREAKS["PDP022"](compliant)
    (finding,) = [f for f in lint(compliant) if f.code == "PDP022"]
    assert "US" in finding.message and "SG" not in finding.message


def test_a_sector_rule_settles_the_permenkominfo_review(compliant: Raw, lint: Lint) -> None:
    BREAKS["PDP030"](compliant)
    entry(compliant, "retention", "accounts")["legal_source"] = "peraturan sektor"
    assert "PDP030" not in {f.code for f in lint(compliant)}


def test_dpo_reasons_cite_the_letters_of_article_53(compliant: Raw, lint: Lint) -> None:
    BREAKS["PDP015"](compliant)
    compliant["organisation"]["public_service"] = True
    (finding,) = [f for f in lint(compliant) if f.code == "PDP015"]
    assert [a.short for a in finding.articles] == ["53(1)(a)", "53(1)(b)", "53(1)(c)"]


def test_a_consent_text_without_indonesian_is_reported_once(compliant: Raw, lint: Lint) -> None:
    BREAKS["PDP004"](compliant)
    codes = [f.code for f in lint(compliant) if f.path[-2:] == ("consent", "text")]
    assert codes == ["PDP004"]
