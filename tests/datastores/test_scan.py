"""Drift scans on SQLite, PostgreSQL and MariaDB: a school database that matches its discovered
mapping reports nothing; card numbers the policy promises are not stored are a critical broken
promise (in a column of their own or in free text); an undeclared phone column and an unmapped
table with personal data are reported; mapped tables and columns that are gone are reported; no
report ever holds a sampled value."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml
from faker import Faker
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert
from test_discover import build_school, sampled_text
from typer.testing import CliRunner

from jagadata.cli import app
from jagadata.datastores.detect import Kind, is_card
from jagadata.datastores.discover import discover
from jagadata.datastores.scan import Severity, scan
from jagadata.manifest import load_manifest
from jagadata.manifest.mapping import ColumnMap, Datastore, TableMap
from jagadata.manifest.schema import Manifest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "la-gelato-academy.yaml"
CARD_TYPES = ["visa16", "mastercard", "amex", "discover"]


@pytest.fixture(scope="module")
def gelato() -> Manifest:
    """The seed manifest: it promises that no card number is stored."""
    return load_manifest(EXAMPLE).manifest


def drafted(url: str) -> Datastore:
    """The school's mapping as discovery drafts it, its connection filled in."""
    block = yaml.safe_load(discover(url).to_yaml("en"))["datastore"]
    block["connection"] = {"env": "SCHOOL_DB_URL"}
    return Datastore.model_validate(block)


def card_numbers(seed: int, count: int) -> list[str]:
    fake = Faker("id_ID")
    fake.seed_instance(seed)
    numbers = [fake.credit_card_number(card_type=CARD_TYPES[i % 4]) for i in range(count)]
    assert all(is_card(n) for n in numbers)
    return numbers


def add_payments(url: str, seed: int = 7) -> list[str]:
    """A payments table keeping card numbers, and chat messages one of which holds a card
    number among ordinary sentences; returns the card numbers written."""
    fake, rng = Faker("id_ID"), random.Random(seed)
    fake.seed_instance(seed)
    metadata = MetaData()
    payments = Table(
        "payments",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("pupil_id", Integer, nullable=False),
        Column("card_number", String(25), nullable=False),
    )
    messages = Table(
        "messages",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("body", String(400), nullable=False),
    )
    cards = card_numbers(seed, 30)
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(payments),
            [{"id": i, "pupil_id": i, "card_number": c} for i, c in enumerate(cards, start=1)],
        )
        bodies = [fake.sentence(nb_words=8) for _ in range(20)]
        bodies[rng.randrange(20)] = f"Bayar pakai kartu {cards[0]} ya, terima kasih"
        connection.execute(
            insert(messages), [{"id": i, "body": b} for i, b in enumerate(bodies, start=1)]
        )
    engine.dispose()
    return cards


def without(datastore: Datastore, table: str, column: str | None = None) -> Datastore:
    """The mapping with a table, or one column of it (and its identity), left out."""
    tables = []
    for mapped in datastore.tables:
        if mapped.name != table:
            tables.append(mapped)
        elif column is not None:
            tables.append(
                mapped.model_copy(
                    update={
                        "columns": [c for c in mapped.columns if c.name != column],
                        "identities": [i for i in mapped.identities if i.column != column],
                    }
                )
            )
    return datastore.model_copy(update={"tables": tables})


def test_a_database_that_matches_its_mapping_reports_nothing(
    target_url: str, gelato: Manifest
) -> None:
    build_school(target_url)
    report = scan(target_url, drafted(target_url), gelato)
    assert report.findings == ()
    assert report.tables == 5 and report.columns > 0
    assert report.unchecked == (
        ("payment_cards", "bank_account"),
        ("sensitive", "health"),
        ("sensitive", "biometric"),
    )


def test_card_numbers_break_the_promise_and_an_undeclared_phone_is_reported(
    target_url: str, gelato: Manifest
) -> None:
    build_school(target_url)
    mapping = without(drafted(target_url), "guardians", "no_hp")
    cards = add_payments(target_url)
    report = scan(target_url, mapping, gelato)
    found = {(f.severity, f.where): f for f in report.findings}
    broken = found[(Severity.CRITICAL, "payments.card_number")]
    assert broken.values == {"detector": "payment_card", "promise": "payment_cards"}
    assert (broken.evidence[0].matched, broken.evidence[0].sampled) == (30, 30)
    in_text = found[(Severity.CRITICAL, "messages.body")]
    assert (in_text.evidence[0].matched, in_text.evidence[0].sampled) == (1, 20)
    phone = found[(Severity.HIGH, "guardians.no_hp")]
    assert phone.values == {"kind": "phone"} and phone.evidence[0].kind is Kind.PHONE
    assert [f.severity for f in report.findings][:2] == [Severity.CRITICAL] * 2
    assert (Severity.HIGH, "payments") not in found  # a broken promise is not reported twice
    assert len(report.findings) == 3
    shown = json.dumps(report.as_json("id"), ensure_ascii=False)
    for value in cards + sampled_text(target_url, ["pupils", "guardians"]):
        assert value not in shown


def test_an_unmapped_table_with_personal_data_and_what_is_gone_are_reported(
    tmp_path: Path, gelato: Manifest
) -> None:
    url = f"sqlite:///{tmp_path / 'school.sqlite3'}"
    build_school(url)
    mapping = without(drafted(url), "guardians")
    pupils = mapping.table("pupils")
    assert pupils is not None
    gone = pupils.model_copy(
        update={"columns": [*pupils.columns, ColumnMap(name="photo", category="identity")]}
    )
    alumni = TableMap(name="alumni", key=["id"])
    tables = [gone if t.name == "pupils" else t for t in mapping.tables] + [alumni]
    report = scan(url, mapping.model_copy(update={"tables": tables}), gelato)
    where = [(f.severity, f.where) for f in report.findings]
    assert where == [
        (Severity.HIGH, "guardians"),
        (Severity.MEDIUM, "alumni"),
        (Severity.MEDIUM, "pupils.photo"),
    ]
    unmapped = report.findings[0]
    assert unmapped.values == {"kinds": "person_name, phone"}
    assert {e.column for e in unmapped.evidence} == {"nama", "no_hp"}
    text = unmapped.render("en")
    assert text["what"] == (
        "a table with personal data that the mapping does not list: person_name, phone"
    )
    assert text["todo"].startswith("Map the table in the datastore")


def manifest_with_school(tmp_path: Path, url: str, connection: str) -> Path:
    """The seed manifest with the school's database as a system, its mapping as discovered."""
    draft = discover(url).to_yaml("en").replace("connection: {}", f"connection: {connection}")
    block = "".join(f"    {line}\n" for line in draft.splitlines() if line.strip())
    system = (
        "  - id: school_db\n    name: Sekolah\n    kind: database\n"
        f"    categories: [identity, contact]\n{block}"
    )
    text = EXAMPLE.read_text(encoding="utf-8").replace("systems:\n", "systems:\n" + system, 1)
    path = tmp_path / "manifest.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["datastore", "scan", *args, "--lang", "en"])
    return result.exit_code, result.stdout, result.stderr


def test_the_scan_command_exits_0_when_clean_and_1_on_a_broken_promise(
    target_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_school(target_url)
    manifest = manifest_with_school(tmp_path, target_url, "{env: SCHOOL_DB_URL}")
    monkeypatch.setenv("SCHOOL_DB_URL", target_url)
    code, out, _ = run(str(manifest), "school_db")
    assert code == 0, out
    assert "No finding in" in out and "the mapping and the policy's promises hold" in out
    assert "Not checked, no detector for it yet: bank_account (promise payment_cards)." in out
    cards = add_payments(target_url)
    code, out, _ = run(str(manifest), "school_db", "--sample", "50")
    assert code == 1
    assert "CRITICAL payments.card_number: payment_card found although the policy promises" in out
    assert "payment_card: 30/30 sampled values are payment card numbers" in out
    assert "3 finding(s) in" not in out and "2 finding(s) in" in out
    code, out, _ = run(str(manifest), "school_db", "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert [f["where"] for f in report["findings"]] == ["messages.body", "payments.card_number"]
    assert all(card not in out for card in cards)


def test_the_scan_command_says_what_it_needs_when_it_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'school.sqlite3'}"
    build_school(url)
    secret = manifest_with_school(tmp_path, url, "{secret: school_db}")
    code, _, err = run(str(secret), "school_db")
    assert code == 2 and "is a secret held by jagadata" in err
    assert "Add --org ORG, or give the database URL with --url." in err
    code, out, _ = run(str(secret), "school_db", "--url", url)
    assert code == 0, out
    code, _, err = run(str(secret), "kantin_db")
    assert code == 2 and "The manifest has no system kantin_db." in err
    code, _, err = run(str(secret), "gmail")
    assert code == 2 and "The system gmail has no datastore mapping" in err
    from_env = manifest_with_school(tmp_path, url, "{env: SCHOOL_DB_URL}")
    monkeypatch.delenv("SCHOOL_DB_URL", raising=False)
    code, _, err = run(str(from_env), "school_db")
    assert code == 2 and "The environment variable SCHOOL_DB_URL is not set." in err
    monkeypatch.setenv("SCHOOL_DB_URL", "postgresql+psycopg://sekolah:s3cret-word@127.0.0.1:1/x")
    code, _, err = run(str(from_env), "school_db")
    assert code == 2 and "Cannot reach postgresql+psycopg://sekolah:***@127.0.0.1:1/x" in err
    assert "s3cret-word" not in err and "Traceback" not in err
