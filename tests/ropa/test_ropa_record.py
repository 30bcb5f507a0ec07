"""The record of processing of both example manifests is complete in every format and language:
every purpose, category, recipient, transfer and retention rule of the manifest is in it, each
with the facts Art. 31 asks to be recorded, found again by reading the written file back."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from babel import Locale
from openpyxl import load_workbook
from ropa_readers import SECTION_KEYS, Tables, csv_tables, html_tables, xlsx_tables

from jagadata.manifest.loader import LoadedManifest, load_manifest_text
from jagadata.manifest.schema import Manifest, Sensitivity
from jagadata.manifest.types import Text
from jagadata.ropa.record import build_record
from jagadata.ropa.render import RecordFormat, render_record
from jagadata.ropa.states import DpiaState, DpiaSummary

READERS: dict[RecordFormat, Callable[[bytes], Tables]] = {
    RecordFormat.HTML: html_tables,
    RecordFormat.CSV: csv_tables,
    RecordFormat.XLSX: xlsx_tables,
}
BABEL = {"id": "id", "en": "en_GB", "fr": "fr"}


def _text(value: Text | str | None, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return (getattr(value, lang) or value.id or "").strip()


def _country(code: str, lang: str) -> str:
    return f"{Locale.parse(BABEL[lang]).territories[code]} ({code})"


def _rows_by_code(tables: Tables, key: str) -> dict[str, list[list[str]]]:
    rows: dict[str, list[list[str]]] = {}
    for row in tables[key]:
        rows.setdefault(row[0], []).append(row)
    return rows


def _one(tables: Tables, key: str, code: str) -> str:
    """The row of `code` in section `key`, as one text to look facts up in."""
    rows = _rows_by_code(tables, key)[code]
    assert len(rows) == 1, f"{code} appears {len(rows)} times in {key}"
    return " | ".join(rows[0])


def _abroad(manifest: Manifest) -> list[tuple[str, tuple[str, ...]]]:
    """Every transfer the manifest declares, and each recipient abroad that none covers."""
    found = [(t.recipient, tuple(t.countries)) for t in manifest.transfers]
    covered = {(t.recipient, c) for t in manifest.transfers for c in t.countries}
    for recipient in manifest.recipients:
        rest = tuple(
            c for c in recipient.countries if c != "ID" and (recipient.id, c) not in covered
        )
        if rest:
            found.append((recipient.id, rest))
    return found


def assert_complete(tables: Tables, manifest: Manifest, lang: str) -> None:
    assert set(tables) == set(SECTION_KEYS)
    categories = {c.id: c for c in manifest.data.categories}
    recipients = {r.id: r for r in manifest.recipients}

    assert [row[0] for row in tables["activities"]] == [p.id for p in manifest.purposes]
    for purpose in manifest.purposes:
        row = _one(tables, "activities", purpose.id)
        assert _text(purpose.name, lang) in row
        assert purpose.legal_basis is not None
        assert ("20 ayat (2)" if lang == "id" else "20(2)") in row
        for cid in purpose.categories:
            assert _text(categories[cid].name, lang) in row
        for rid in purpose.recipients:
            assert _text(recipients[rid].name, lang) in row
        for group in purpose.subjects:
            subject = manifest.subject_group(group)
            assert subject is not None and _text(subject.name, lang) in row
        for rule in manifest.retention:
            if set(rule.categories) & set(purpose.categories):
                assert _text(rule.name, lang) in row
        for recipient_id, countries in _abroad(manifest):
            if recipient_id in purpose.recipients:
                assert all(_country(code, lang) in row for code in countries)
        for system in manifest.systems:
            if set(system.categories) & set(purpose.categories):
                assert system.name in row

    assert [row[0] for row in tables["categories"]] == list(categories)
    for category in manifest.data.categories:
        row = _one(tables, "categories", category.id)
        assert _text(category.name, lang) in row
        if category.sensitivity is Sensitivity.SPECIFIC:
            assert ("Pasal 4 ayat (2)" if lang == "id" else "4(2)") in row

    assert [row[0] for row in tables["recipients"]] == list(recipients)
    for recipient in manifest.recipients:
        row = _one(tables, "recipients", recipient.id)
        assert _text(recipient.name, lang) in row
        assert all(_country(code, lang) in row for code in recipient.countries)

    transfers = tables["transfers"]
    expected = _abroad(manifest)
    assert len(transfers) == len(expected)
    for recipient_id, countries in expected:
        assert any(
            row[0] == recipient_id and all(_country(code, lang) in row[2] for code in countries)
            for row in transfers
        ), f"the transfer to {recipient_id} ({', '.join(countries)}) is recorded"
    for transfer in manifest.transfers:
        if transfer.basis is not None:
            assert any(row[0] == transfer.recipient and "56" in row[3] for row in transfers)

    assert [row[0] for row in tables["retention"]] == [r.id for r in manifest.retention]
    for rule in manifest.retention:
        row = _one(tables, "retention", rule.id)
        assert _text(rule.name, lang) in row and str(rule.period) in row
        assert _text(rule.legal_source, lang) in row

    assert [row[0] for row in tables["security"]] == [
        m.kind.value for m in manifest.security.measures
    ]
    assert [row[0] for row in tables["systems"]] == [s.id for s in manifest.systems]
    controller = " ".join(" ".join(row) for row in tables["controller"])
    assert manifest.organisation.name in controller
    if manifest.organisation.dpo is not None:
        assert str(manifest.organisation.dpo.email) in controller
    dpia_purposes = {p.id for p in manifest.purposes if p.dpia is not None or p.high_risk}
    assert dpia_purposes <= {row[0] for row in tables["dpias"]}


@pytest.mark.parametrize("fmt", list(RecordFormat))
@pytest.mark.parametrize("lang", ["id", "en", "fr"])
def test_the_record_of_each_example_is_complete(
    example_manifests: tuple[LoadedManifest, ...], fmt: RecordFormat, lang: str
) -> None:
    assert len(example_manifests) == 2
    for loaded in example_manifests:
        content = render_record(build_record(loaded, lang), fmt)
        assert_complete(READERS[fmt](content), loaded.manifest, lang)


def test_indonesian_is_the_default_and_reads_as_indonesian(
    example_manifests: tuple[LoadedManifest, ...],
) -> None:
    record = build_record(example_manifests[0])
    assert record.lang == "id"
    assert record.title == "Catatan kegiatan pemrosesan Data Pribadi"
    assert "Pasal 31 UU PDP" in record.intro
    html = render_record(record, RecordFormat.HTML).decode("utf-8")
    assert '<html lang="id">' in html and "@page" in html


def test_a_recipient_abroad_without_a_declared_transfer_is_recorded_without_a_basis(
    example_manifests: tuple[LoadedManifest, ...],
) -> None:
    gelato = next(m for m in example_manifests if m.manifest.transfers)
    text = gelato.text.replace(
        "transfers:\n  - recipient: hostinger\n    countries: [SG, LT]\n"
        "    basis: binding_safeguards\n    safeguards: [standard_clauses, contract]\n",
        "transfers:\n",
    )
    assert text != gelato.text
    loaded = load_manifest_text(text)
    rows = build_record(loaded, "en").section("transfers").rows
    hostinger = [row for row in rows if row[0] == "hostinger"]
    assert len(hostinger) == 1
    assert "Singapore (SG)" in hostinger[0][2] and "Lithuania (LT)" in hostinger[0][2]
    assert hostinger[0][3] == "not stated"


def test_the_workspace_state_of_a_dpia_is_recorded(
    example_manifests: tuple[LoadedManifest, ...],
) -> None:
    millealab = next(m for m in example_manifests if m.manifest.organisation.slug == "millealab")
    summary = DpiaSummary(DpiaState.SUBMITTED, "medium", None)
    record = build_record(millealab, "en", dpias={"assessment_dashboard": summary})
    row = next(r for r in record.section("dpias").rows if r[0] == "assessment_dashboard")
    assert row[4] == "Submitted to the data protection officer"
    assert row[5] == "Medium"
    activity = next(r for r in record.section("activities").rows if r[0] == "assessment_dashboard")
    assert activity[-1] == "Required: Submitted to the data protection officer"


def test_the_workspace_column_is_empty_unless_the_workspace_was_read(
    example_manifests: tuple[LoadedManifest, ...],
) -> None:
    millealab = next(m for m in example_manifests if m.manifest.organisation.slug == "millealab")
    alone = build_record(millealab, "en").section("dpias").rows
    read = build_record(millealab, "en", dpias={}).section("dpias").rows
    assert [row[4] for row in alone] == [""]
    assert [row[4] for row in read] == ["Not started in the workspace"]


def test_no_cell_becomes_a_formula_in_a_spreadsheet(
    example_manifests: tuple[LoadedManifest, ...],
) -> None:
    gelato = next(m for m in example_manifests if m.manifest.transfers)
    formula = '=HYPERLINK("http://example.invalid")'
    loaded = load_manifest_text(gelato.text.replace("name: Hostinger", f"name: '{formula}'", 1))
    record = build_record(loaded, "en")
    csv_rows = csv_tables(render_record(record, RecordFormat.CSV))["recipients"]
    assert "'" + formula in [row[1] for row in csv_rows]
    phone = next(
        row
        for row in csv_tables(render_record(record, RecordFormat.CSV))["controller"]
        if row[0] == "phone"
    )
    assert phone[2].startswith("'+62")
    workbook = load_workbook(io.BytesIO(render_record(record, RecordFormat.XLSX)))
    cells = [c for row in workbook.worksheets[3].iter_rows() for c in row if c.value == formula]
    assert cells and all(c.data_type == "s" for c in cells)
