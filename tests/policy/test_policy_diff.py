"""Material changes (Art. 21(2) UU PDP): each kind is caught, minor ones are not over-flagged."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from faker import Faker
from policy_helpers import edited

from jagadata.law.articles import art
from jagadata.manifest.schema import Manifest
from jagadata.policy.changes import Area, ChangeKind, PolicyChange
from jagadata.policy.diff import PolicyDiff, diff_manifests, requires_fresh_consent

Change = Callable[[dict[str, Any]], None]


def changes_after(base: Manifest, change: Change) -> PolicyDiff:
    return diff_manifests(base, edited(base, change))


def only(diff: PolicyDiff, area: Area) -> list[PolicyChange]:
    return [c for c in diff.changes if c.area is area]


def purpose(data: dict[str, Any], purpose_id: str) -> dict[str, Any]:
    return next(p for p in data["purposes"] if p["id"] == purpose_id)


def test_the_same_manifest_has_no_changes(gelato: Manifest, millealab: Manifest) -> None:
    for manifest in (gelato, millealab):
        diff = diff_manifests(manifest, manifest)
        assert diff.changes == () and not diff.has_material_changes


def test_a_new_purpose_is_material(gelato: Manifest) -> None:
    def add(data: dict[str, Any]) -> None:
        data["purposes"].append({
            "id": "surveys", "name": {"id": "Survei kepuasan", "en": "Satisfaction surveys"},
            "legal_basis": "consent", "categories": ["contact"],
            "consent": {"text": {"id": "Saya bersedia menerima survei."}},
        })

    diff = changes_after(gelato, add)
    (change,) = only(diff, Area.PURPOSE)
    assert change.kind is ChangeKind.ADDED and change.material
    assert change.article == art("21(1)(b)") and change.purposes == ("surveys",)
    assert change.describe("en") == "New purpose: Satisfaction surveys."
    assert requires_fresh_consent(diff, "surveys")


def test_a_changed_legal_basis_is_material(gelato: Manifest) -> None:
    diff = changes_after(gelato, lambda d: purpose(d, "analytics").update(
        legal_basis="consent", legitimate_interest=None,
        consent={"text": {"id": "Izinkan analitik."}}))
    (change,) = only(diff, Area.LEGAL_BASIS)
    assert change.material and change.article == art("20(2)")
    assert change.describe("en") == (
        "The legal basis of Service improvement changed from Our legitimate interest to "
        "Your explicit valid consent."
    )


@pytest.mark.parametrize(
    ("extra", "message", "article"),
    [
        ({}, "A new kind of data is collected: Photos.", "21(1)(c)"),
        ({"sensitivity": "specific", "specific_type": "health"},
         "New specific personal data is collected: Photos.", "4(2)(a)"),
    ],
)
def test_a_new_category_is_material_and_specific_data_says_so(
    gelato: Manifest, extra: dict[str, Any], message: str, article: str
) -> None:
    def add(data: dict[str, Any]) -> None:
        data["data"]["categories"].append(
            {"id": "photos", "name": {"id": "Foto", "en": "Photos"}, "source": "direct", **extra})
        purpose(data, "orders")["categories"].append("photos")

    diff = changes_after(gelato, add)
    (added,) = [c for c in only(diff, Area.CATEGORY) if c.kind is ChangeKind.ADDED]
    assert added.material and added.describe("en") == message and added.article == art(article)
    uses = [c for c in only(diff, Area.PURPOSE) if c.key == "orders"]
    assert uses and uses[0].material


def test_a_new_recipient_and_a_new_country_are_material(gelato: Manifest) -> None:
    def add(data: dict[str, Any]) -> None:
        data["recipients"].append({
            "id": "mailer", "name": "Pengirim Surel", "role": "processor",
            "service": {"id": "pengiriman buletin"}, "countries": ["JP"],
        })
        purpose(data, "marketing")["recipients"].append("mailer")

    diff = changes_after(gelato, add)
    (recipient,) = [c for c in only(diff, Area.RECIPIENT) if c.kind is ChangeKind.ADDED]
    assert recipient.material and recipient.purposes == ("marketing",)
    (transfer,) = only(diff, Area.TRANSFER)
    assert transfer.material and transfer.article == art("56(1)")
    assert transfer.describe("en") == (
        "Personal data now goes abroad to Japan through Pengirim Surel."
    )
    assert requires_fresh_consent(diff, "marketing")
    assert not requires_fresh_consent(diff, "orders")


def test_a_new_country_for_a_known_recipient_is_material(gelato: Manifest) -> None:
    def move(data: dict[str, Any]) -> None:
        data["recipients"][0]["countries"].append("JP")
        data["transfers"][0]["countries"].append("JP")

    (change,) = changes_after(gelato, move).changes
    assert change.area is Area.TRANSFER and change.material
    assert "Japan" in change.describe("en") and "Jepang" in change.describe("id")


def test_a_weaker_transfer_basis_or_fewer_safeguards_are_material(gelato: Manifest) -> None:
    def weaken(data: dict[str, Any]) -> None:
        data["transfers"][1].update(basis="consent", safeguards=["contract"])

    diff = changes_after(gelato, weaken)
    assert {c.article for c in diff.material} == {art("56"), art("56(3)")}
    assert all(c.area is Area.TRANSFER for c in diff.changes)


def test_longer_retention_is_material_and_shorter_is_not(gelato: Manifest) -> None:
    longer = changes_after(gelato, lambda d: d["retention"][3].update(period="36m"))
    (change,) = longer.changes
    assert change.area is Area.RETENTION and change.material
    assert change.describe("en") == (
        "The retention period for Cookies and technical data is now longer: 36 months from "
        "collection instead of 24 months from collection."
    )
    shorter = changes_after(gelato, lambda d: d["retention"][3].update(period="12m"))
    assert shorter.changes and not shorter.has_material_changes
    other_event = changes_after(gelato, lambda d: d["retention"][2].update(period="24m"))
    assert other_event.has_material_changes


def test_a_weaker_response_commitment_is_material(gelato: Manifest) -> None:
    slower = changes_after(gelato, lambda d: d["rights"]["response"].update(fulfil_within="60d"))
    keys = {c.key for c in slower.material}
    assert {"erasure", "portability"} <= keys
    assert "access" not in keys  # the law's 3 x 24 hours still apply
    acknowledged_later = changes_after(
        gelato, lambda d: d["rights"]["response"].update(acknowledge_within="7d"))
    (change,) = acknowledged_later.changes
    assert change.material and change.article == art("14")
    working_days = changes_after(
        gelato, lambda d: d["rights"]["response"].update(calendar="working_days"))
    assert working_days.has_material_changes


def test_a_promise_the_law_overrides_changes_nothing(gelato: Manifest) -> None:
    diff = changes_after(gelato, lambda d: d["rights"]["response"].update(
        per_right={"access": "14d"}))
    assert diff.changes == ()


def test_fewer_rights_or_channels_are_material(gelato: Manifest) -> None:
    def fewer(data: dict[str, Any]) -> None:
        data["rights"]["offered"] = [r for r in data["rights"]["offered"] if r != "portability"]
        data["rights"]["channels"] = data["rights"]["channels"][:1]
        data["rights"]["objection_to_marketing"] = False

    diff = changes_after(gelato, fewer)
    assert len(diff.material) == 4 and all(c.area is Area.RIGHTS for c in diff.changes)


def without_cookies(manifest: Manifest, category: str) -> Manifest:
    return edited(manifest, lambda d: d.update(
        cookies=[c for c in d["cookies"] if c["category"] != category]))


def test_a_new_cookie_category_needing_consent_is_material(gelato: Manifest) -> None:
    without_marketing = without_cookies(gelato, "marketing")
    diff = diff_manifests(without_marketing, gelato)
    (change,) = diff.changes
    assert change.area is Area.COOKIE and change.material and change.article == art("20(2)(a)")
    assert change.describe("en") == "New kind of cookie: Marketing."
    without_essential = without_cookies(gelato, "essential")
    (essential,) = diff_manifests(without_essential, gelato).changes
    assert not essential.material


def test_a_new_provider_in_a_consent_category_is_material(gelato: Manifest) -> None:
    def add(data: dict[str, Any]) -> None:
        data["cookies"].append({"category": "marketing", "purpose": {"id": "Iklan"},
                                "duration": "90d", "provider": "TikTok"})

    (change,) = changes_after(gelato, add).changes
    assert change.material and change.describe("en") == "TikTok now sets Marketing cookies."


def test_contact_changes_are_listed_but_not_material(gelato: Manifest, faker: Faker) -> None:
    email = faker.free_email()
    diff = changes_after(gelato, lambda d: d["organisation"].update(email=email))
    (change,) = diff.changes
    assert change.area is Area.CONTACT and not change.material
    assert email in change.describe("id") and "berubah dari" in change.describe("id")


def test_rewording_a_description_is_minor_but_rewording_consent_asks_again(
    gelato: Manifest,
) -> None:
    reworded = changes_after(gelato, lambda d: purpose(d, "marketing").update(
        description={"id": "Mengirim kabar produk baru."}))
    assert reworded.changes and not reworded.has_material_changes
    assert not requires_fresh_consent(reworded, "marketing")
    new_request = changes_after(gelato, lambda d: purpose(d, "marketing")["consent"].update(
        text={"id": "Saya setuju menerima promosi melalui SMS."}))
    assert new_request.has_material_changes and requires_fresh_consent(new_request, "marketing")


def test_changes_are_described_in_every_language(gelato: Manifest, millealab: Manifest) -> None:
    diff = diff_manifests(gelato, millealab)
    assert len(diff.changes) > 20 and diff.has_material_changes
    for change in diff.changes:
        english = change.describe("en")
        assert "{" not in english
        for lang in ("id", "fr"):
            assert "{" not in change.describe(lang) and change.describe(lang) != english
    data = json.loads(json.dumps(diff.to_dict("fr")))
    assert data["material"] is True and data["notice_article"] == "art. 21(2) UU PDP"
    assert {"area", "kind", "key", "material", "article", "description", "purposes"} == set(
        data["changes"][0])
