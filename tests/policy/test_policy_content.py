"""The policy adapts to the manifest: escaping, transfers, children, deadlines, links."""

from __future__ import annotations

import re
from typing import Any

import pytest
from faker import Faker
from policy_helpers import edited, markdown_to_html, reader_text, visible_text

from jagadata.i18n import gettext
from jagadata.law.facts import Right
from jagadata.manifest.schema import Manifest
from jagadata.policy.render import render_policy


def section(page: str, section_id: str) -> str:
    """The visible text of one `<section>` of a rendered page."""
    match = re.search(rf'<section id="{section_id}".*?</section>', page, re.S)
    assert match, section_id
    return visible_text(match.group(0))


def policy_text(message: str, lang: str) -> str:
    return gettext(lang, message, "policy")


def test_manifest_text_is_escaped_in_html_and_markdown(gelato: Manifest) -> None:
    attack = "<script>alert('x')</script>"

    def inject(data: dict[str, Any]) -> None:
        data["organisation"]["trading_name"] = attack
        data["purposes"][0]["name"] = {"id": "Pesanan | <b>tebal</b>", "en": "Orders | <b>bold</b>"}
        data["recipients"][0]["name"] = "Host & Co *bintang* _garis_"

    manifest = edited(gelato, inject)
    for lang in ("id", "en"):
        page = render_policy(manifest, lang=lang)
        assert "<script>" not in page and "<b>" not in page
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
        assert "Host &amp; Co *bintang* _garis_" in page
        markdown = render_policy(manifest, lang=lang, fmt="md")
        assert "<script>" not in markdown and "<b>" not in markdown
        rendered = markdown_to_html(markdown)
        assert "<script>" not in rendered and "<b>" not in rendered
        seen = visible_text(rendered)
        assert attack in seen and "Host & Co *bintang* _garis_" in seen
        assert manifest.purposes[0].name.get(lang) in seen


def test_markdown_table_cells_keep_their_pipes(gelato: Manifest) -> None:
    manifest = edited(gelato, lambda d: d["purposes"][1].update(name={"id": "Kiri | kanan"}))
    markdown = render_policy(manifest, lang="id", fmt="md")
    (row,) = [line for line in markdown.splitlines() if line.startswith("| Kiri")]
    assert row.startswith("| Kiri \\| kanan |")
    assert len(re.findall(r"(?<!\\)\|", row)) == 4


def test_transfers_abroad_are_listed_with_their_basis(gelato: Manifest) -> None:
    text = section(render_policy(gelato, lang="id"), "transfers")
    assert "Singapura dan Lituania" in text and "Amerika Serikat" in text
    assert "Pasal 56 ayat (3) UU PDP" in text
    stays = policy_text(
        "We keep and process your personal data in Indonesia and do not transfer it abroad.", "id"
    )
    assert stays not in text


def test_without_transfers_the_data_stays_in_indonesia(millealab: Manifest) -> None:
    assert not millealab.transfers
    for lang in ("id", "en", "fr"):
        text = section(render_policy(millealab, lang=lang), "transfers")
        stays = policy_text(
            "We keep and process your personal data in Indonesia and do not transfer it abroad.",
            lang,
        )
        assert text.endswith(stays)


def test_a_recipient_abroad_without_a_transfer_is_not_hidden(millealab: Manifest) -> None:
    manifest = edited(millealab, lambda d: d["recipients"][0].update(countries=["ID", "SG"]))
    text = section(render_policy(manifest, lang="en"), "transfers")
    assert "Singapore" in text and "Not stated" in text


def test_children_served_and_not_served_read_differently(
    gelato: Manifest, millealab: Manifest
) -> None:
    served = section(render_policy(millealab, lang="id"), "children")
    not_served = section(render_policy(gelato, lang="id"), "children")
    assert "Pasal 25 ayat (2) UU PDP" in served and "Siswa" in served
    assert millealab.children.verification is not None
    assert millealab.children.verification.get("id").split(";")[0] in served
    assert "tidak ditujukan bagi orang yang belum berusia 18 tahun" in not_served
    assert "Pasal 25 ayat (2)" not in not_served


def test_a_lower_minimum_age_asks_for_parental_consent_below_18(gelato: Manifest) -> None:
    manifest = edited(gelato, lambda d: d["children"].update(minimum_age=13, on_discovery=None))
    text = section(render_policy(manifest, lang="en"), "children")
    assert "aged 13 years or older" in text
    assert "Users under 18 years of age need the consent of a parent or guardian" in text
    assert "we erase it" in text


def test_statutory_deadlines_override_a_weaker_promise(gelato: Manifest) -> None:
    assert gelato.rights.response.fulfil_within is not None
    assert gelato.rights.response.fulfil_within.approx_hours > 72
    rights = section(render_policy(gelato, lang="id"), "rights")
    assert "Paling lambat 3 × 24 jam sejak permohonan diterima" in rights
    assert "Paling lambat 30 hari sejak permohonan diterima" in rights  # erasure: no limit in law
    english = section(render_policy(gelato, lang="en"), "rights")
    assert "No later than 72 hours after we receive the request" in english


def test_a_stricter_promise_is_shown(millealab: Manifest) -> None:
    manifest = edited(
        millealab, lambda d: d["rights"]["response"].update(per_right={"access": "24h"})
    )
    rights = section(render_policy(manifest, lang="id"), "rights")
    assert "Paling lambat 1 × 24 jam sejak permohonan diterima" in rights


def test_only_offered_rights_are_listed(gelato: Manifest) -> None:
    manifest = edited(gelato, lambda d: d["rights"].update(offered=["access", "erasure"]))
    rights = section(render_policy(manifest, lang="en"), "rights")
    assert "Right of access" in rights and "Right to erasure" in rights
    assert "Right to data portability" not in rights
    assert rights.count("UU PDP |") == 0
    assert Right.PORTABILITY not in manifest.rights.offered


def test_the_privacy_centre_link_follows_the_policy_address(gelato: Manifest) -> None:
    page = render_policy(gelato, lang="id")
    assert 'href="https://lagelatoacademy.com/o/la-gelato-academy/"' in page
    relative = edited(gelato, lambda d: d["policy"].update(url=None))
    assert 'href="/o/la-gelato-academy/"' in render_policy(relative, lang="id")


def test_consent_purposes_say_how_to_withdraw(gelato: Manifest) -> None:
    text = section(render_policy(gelato, lang="id"), "legal-bases")
    assert "Anda dapat menarik kembali persetujuan ini kapan saja melalui" in text
    assert "tautan berhenti berlangganan" in text
    assert "paling lambat 3 × 24 jam" in text and "Pasal 40 ayat (2) UU PDP" in text
    assert gelato.purposes[4].legitimate_interest is not None
    assert gelato.purposes[4].legitimate_interest.get("id") in text
    assert "Undang-Undang Ketentuan Umum dan Tata Cara Perpajakan" in text


def test_breach_notice_never_waits_longer_than_the_law(gelato: Manifest) -> None:
    slow = edited(gelato, lambda d: d["breach"].update(notify_subjects_within="14d",
                                                       notify_authority_within="7d"))
    text = section(render_policy(slow, lang="id"), "breach")
    assert "paling lambat 3 × 24 jam sejak kami mengetahuinya" in text
    assert "14 hari" not in text and "Pasal 46 ayat (2) UU PDP" in text
    faster = edited(gelato, lambda d: d["breach"].update(notify_authority_within="24h"))
    text = section(render_policy(faster, lang="en"), "breach")
    assert "no later than 72 hours and the personal data protection authority no later than " \
           "24 hours" in text


def test_no_cookies_and_no_recipients_are_said_plainly(gelato: Manifest) -> None:
    def strip(data: dict[str, Any]) -> None:
        data["cookies"] = []
        data["transfers"] = []
        data["recipients"] = []
        for purpose in data["purposes"]:
            purpose["recipients"] = []
        for system in data["systems"]:
            system["recipient"] = None

    page = render_policy(edited(gelato, strip), lang="en")
    assert section(page, "cookies") == "12. Cookies and similar technologies We do not use " \
                                       "cookies or similar technologies."
    assert "We do not share your personal data with anyone outside La Gelato Academy." in \
           section(page, "sharing")


def test_generated_contacts_appear_where_people_look(gelato: Manifest, faker: Faker) -> None:
    email, phone = faker.free_email(), faker.phone_number()
    manifest = edited(gelato, lambda d: d["organisation"].update(email=email, phone=phone))
    page = render_policy(manifest, lang="id", fmt="md")
    contact = reader_text(page, "md").split("16. Hubungi kami")[1]
    assert email in contact and phone in contact


@pytest.mark.parametrize("lang", ["id", "en", "fr"])
def test_the_indonesian_text_prevails(gelato: Manifest, lang: str) -> None:
    text = section(render_policy(gelato, lang=lang), "language")
    names = {"id": "bahasa Indonesia", "en": "Indonesian", "fr": "indonésien"}
    assert names[lang] in text
    single = edited(gelato, lambda d: d.update(languages=["id"]))
    assert section(render_policy(single, lang=lang), "language") != text
