"""A wrong manifest gets every problem at once, each located and explained; a right one loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from jagadata.manifest import ManifestInvalid, load_manifest, load_manifest_text

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
GELATO = next(p for p in EXAMPLES if p.name == "la-gelato-academy.yaml")


def errors_of(text: str, lang: str = "en") -> list[tuple[int | None, int | None, str, str]]:
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest_text(text, file="m.yaml", lang=lang)
    return [(e.line, e.column, e.field_path, e.message) for e in caught.value.errors]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_load(path: Path) -> None:
    loaded = load_manifest(path)
    assert loaded.manifest.languages[0] == "id"
    assert len(loaded.content_hash) == 64


def test_every_problem_is_reported_at_once_with_its_location() -> None:
    text = GELATO.read_text(encoding="utf-8")
    text = text.replace("  legal_form: umkm\n", "  legal_fom: umkm\n")
    text = text.replace(
        "    legal_basis: legitimate_interest\n    legitimate_interest:",
        "    legal_basis: legitimate_intrest\n    legitimate_interest:",
    )
    text = text.replace("    period: 24m\n", "    period: 24 fortnights\n")
    text = text.replace(
        "    categories: [technical, usage]\n    subjects: [visitors]\n",
        "    categories: [technical, usage, usag]\n    subjects: [visitors]\n",
    )
    found = errors_of(text)
    paths = [path for _, _, path, _ in found]
    assert paths == [
        "organisation.legal_form",
        "organisation.legal_fom",
        "purposes[4].legal_basis",
        "purposes[4].categories[2]",
        "retention[3].period",
    ]
    by_path = {path: (line, column, message) for line, column, path, message in found}
    assert by_path["organisation.legal_fom"][:2] == (line_of(text, "legal_fom:"), 3)
    assert by_path["purposes[4].legal_basis"][0] == line_of(text, "legitimate_intrest")
    assert by_path["purposes[4].categories[2]"][0] == line_of(text, "usage, usag]")
    assert by_path["retention[3].period"][0] == line_of(text, "24 fortnights")
    assert "missing required key 'legal_form'" in by_path["organisation.legal_form"][2]


def test_hints_suggest_the_intended_word() -> None:
    text = GELATO.read_text(encoding="utf-8").replace("  legal_form: umkm\n", "  legal_fom: umkm\n")
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest_text(text, file="m.yaml")
    typo = next(e for e in caught.value.errors if e.field_path == "organisation.legal_fom")
    assert typo.hint == "did you mean 'legal_form'?"
    assert typo.expected is not None and "legal_form" in typo.expected


def test_messages_are_indonesian_when_asked() -> None:
    text = GELATO.read_text(encoding="utf-8").replace("  legal_form: umkm\n", "  legal_fom: umkm\n")
    messages = [message for *_, message in errors_of(text, lang="id")]
    assert "kunci 'legal_fom' tidak dikenal" in messages


def test_unknown_keys_are_errors_everywhere() -> None:
    text = GELATO.read_text(encoding="utf-8").replace(
        "  notify_subjects_within: 72h\n", "  notify_subjects_within: 72h\n  notify_press: true\n"
    )
    assert [p for _, _, p, _ in errors_of(text)] == ["breach.notify_press"]


def test_duplicate_ids_point_at_the_second_use() -> None:
    text = GELATO.read_text(encoding="utf-8").replace("  - id: communication\n", "  - id: orders\n")
    found = errors_of(text)
    assert [(p, m) for _, _, p, m in found] == [("purposes[1].id", "id 'orders' is used twice")]


def test_duplicate_yaml_keys_are_refused() -> None:
    text = GELATO.read_text(encoding="utf-8").replace(
        "  legal_form: umkm\n", "  legal_form: umkm\n  legal_form: pt\n"
    )
    ((line, _, path, message),) = errors_of(text)
    assert path == "(top level)" and "duplicate key" in message
    assert line == line_of(text, "legal_form: pt")


def test_yaml_syntax_error_is_located() -> None:
    ((line, column, _, message),) = errors_of("jagadata: 1\norganisation:\n  name: [unclosed\n")
    assert message.startswith("YAML syntax error")
    assert line is not None and column is not None


@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "42\n"])
def test_a_manifest_must_be_a_mapping(text: str) -> None:
    ((_, _, path, message),) = errors_of(text)
    assert path == "(top level)" and "mapping" in message


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest(tmp_path / "absent.yaml")
    (error,) = caught.value.errors
    assert error.message == "file not found" and "jagadata init" in (error.hint or "")


def test_indonesian_must_come_first() -> None:
    text = GELATO.read_text(encoding="utf-8").replace(
        "languages: [id, en, fr]", "languages: [en, id]"
    )
    ((line, _, path, message),) = errors_of(text)
    assert path == "languages" and "Indonesian" in message
    assert line == line_of(text, "languages: [en, id]")


def test_wrong_kind_of_value() -> None:
    text = GELATO.read_text(encoding="utf-8").replace(
        "  large_scale: false\n", "  large_scale: sometimes\n"
    )
    ((_, _, path, message),) = errors_of(text)
    assert path == "organisation.large_scale" and "sometimes" in message


def test_unknown_reference_lists_declared_ids_when_nothing_is_close() -> None:
    text = GELATO.read_text(encoding="utf-8").replace(
        "  - recipient: hostinger\n    countries: [SG, LT]",
        "  - recipient: zzz\n    countries: [SG, LT]",
    )
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest_text(text, file="m.yaml")
    (error,) = caught.value.errors
    assert error.field_path == "transfers[0].recipient"
    assert error.hint is not None and "hostinger" in error.hint


def test_yaml_1_2_booleans_keep_country_codes_as_text() -> None:
    text = GELATO.read_text(encoding="utf-8").replace(
        "  - recipient: hostinger\n    countries: [SG, LT]",
        "  - recipient: hostinger\n    countries: [SG, NO]",
    )
    text = text.replace(
        "    countries: [SG, LT]\n    categories:", "    countries: [SG, NO]\n    categories:"
    )
    loaded = load_manifest_text(text, file="m.yaml")
    assert loaded.manifest.transfers[0].countries == ["SG", "NO"]


def test_anchors_are_accepted() -> None:
    text = GELATO.read_text(encoding="utf-8").replace(
        "breach:\n  notify_subjects_within: 72h\n",
        "breach: &notice\n  notify_subjects_within: 72h\n",
    )
    loaded = load_manifest_text(text, file="m.yaml")
    assert str(loaded.manifest.breach.notify_subjects_within) == "72h"
