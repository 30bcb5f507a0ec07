"""Retention sweeps on an Indonesian online shop's database, on SQLite, PostgreSQL and
MariaDB: exactly the rows past their period are anonymised or deleted, none of a person with
an open request, and a held table is anonymised, never deleted — checked row by row against
an oracle written without the sweep. A sweep that dies between batches resumes where it
stopped; a second sweep changes nothing; the plan changes nothing."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "datastores" / "datasets"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import database_state as state
import shop

from jagadata.cli import app
from jagadata.config import Settings
from jagadata.datastores.service import store_secret
from jagadata.db import session_factory
from jagadata.db.tenancy import scope
from jagadata.manifest import load_manifest_text
from jagadata.orgs import service as orgs
from jagadata.orgs.models import Organisation
from jagadata.retention.models import RetentionProgress, RetentionRun, SweepStatus
from jagadata.retention.plan import (
    CONSENT_VS_MINIMUM,
    HELD_ANONYMISED,
    NEEDS_LEDGER,
    plan_retention,
)
from jagadata.retention.run import run_retention
from jagadata.rights import service
from scratch_databases import ENGINES, scratch_target

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "millealab.yaml"
SYSTEM = "platform_db"
NOW = datetime(2026, 7, 1, tzinfo=UTC)
CUSTOMERS_BEFORE = datetime(2024, 7, 1)  # 24 months before NOW
MESSAGES_BEFORE = datetime(2025, 7, 1)  # 12 months
PAYMENTS_BEFORE = datetime(2025, 7, 1)
CATEGORIES = {
    "identity": "account",
    "contact": "account",
    "address": "account",
    "communications": "feedback",
    "financial": "transactions",
    "orders": "transactions",
}
RULES = [
    {
        "id": "shop_accounts",
        "name": "Akun pelanggan toko",
        "categories": ["account"],
        "period": "24m",
        "action": "anonymise",
    },
    {
        "id": "chats",
        "name": "Percakapan WhatsApp",
        "categories": ["feedback"],
        "period": "12m",
        "action": "delete",
    },
    {
        "id": "payment_records",
        "name": "Bukti pembayaran",
        "categories": ["transactions"],
        "period": "transaction + 12m",
        "action": "delete",
    },
    {
        "id": "marketing",
        "name": "Alamat untuk promosi",
        "categories": ["site_activity"],
        "period": "until consent_withdrawn",
        "action": "delete",
    },
    {
        "id": "tax_minimum",
        "name": "Catatan pajak",
        "categories": ["site_activity"],
        "period": "transaction + 5y",
        "action": "anonymise",
        "legal_source": "UU KUP Pasal 28 ayat (11)",
    },
]
SWEPT = {
    "customers": ("shop_accounts", "created_at"),
    "whatsapp_messages": ("chats", "sent_at"),
    "payments": ("payment_records", "paid_at"),
    "addresses": ("marketing", "id"),
}


def _mapping(batch_size: int) -> dict[str, Any]:
    document = yaml.safe_load(shop.MAPPING.read_text(encoding="utf-8"))
    document["connection"] = {"secret": "shop"}
    document["batch_size"] = batch_size
    for table in document["tables"]:
        for column in table.get("columns", []):
            column["category"] = CATEGORIES[column["category"]]
        if table["name"] in SWEPT:
            rule, since = SWEPT[table["name"]]
            table["retention"] = {"rule": rule, "since": since}
    return document


@pytest.fixture(params=ENGINES)
def shop_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with scratch_target(request.param, tmp_path / "target") as url:
        shop.create(url)
        yield url


def _organisation(
    migrated_engine: Engine, url: str, batch_size: int = 4
) -> tuple[Session, Organisation]:
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document["retention"] = deepcopy(RULES)
    for system in document["systems"]:
        if system["id"] == SYSTEM:
            system["datastore"] = _mapping(batch_size)
    loaded = load_manifest_text(yaml.safe_dump(document, allow_unicode=True), file="shop.yaml")
    session = session_factory(migrated_engine)()
    orgs.update_organisation(session=session, loaded=loaded)
    organisation = session.scalars(
        select(Organisation).where(Organisation.slug == loaded.manifest.organisation.slug)
    ).one()
    scope(session, organisation.id)
    store_secret(session, organisation.id, "shop", url)
    session.commit()
    return session, organisation


def _open_request(session: Session, organisation: Organisation) -> None:
    """The rich customer asked for erasure; the request is not closed yet."""
    rich = next(r for r in shop.generate().rows["customers"] if r["id"] == shop.RICH)
    service.file_request(
        session=session,
        organisation=organisation,
        right="erasure",
        identifier="email",
        value=state.plain_email(rich["email"]),
        language="id",
    )
    session.commit()


def _held_keys() -> dict[str, set[tuple[Any, ...]]]:
    """The rows of the customer with the open request, walked by hand from their email."""
    rows = shop.generate().rows
    orders = {o["id"] for o in rows["orders"] if o["customer_id"] == shop.RICH}
    return {
        "customers": {(shop.RICH,)},
        "payments": {(p["id"],) for p in rows["payments"] if p["order_id"] in orders},
    }


def _before(value: Any, moment: datetime) -> bool:
    return value is not None and value < moment


def _expected() -> dict[str, dict[tuple[Any, ...], str]]:
    """Per table, per key: 'kept', 'deleted' or 'masked'."""
    rows = shop.generate().rows
    held = _held_keys()
    expected: dict[str, dict[tuple[Any, ...], str]] = {}
    rules = {
        "customers": ("created_at", CUSTOMERS_BEFORE, "masked"),
        "whatsapp_messages": ("sent_at", MESSAGES_BEFORE, "deleted"),
        "payments": ("paid_at", PAYMENTS_BEFORE, "masked"),  # held for tax: never deleted
    }
    for table in shop.metadata.sorted_tables:
        key_columns = [c.name for c in table.primary_key.columns]
        expected[table.name] = {}
        for row in rows[table.name]:
            key = tuple(row[c] for c in key_columns)
            fate = "kept"
            if table.name in rules:
                since, moment, action = rules[table.name]
                if _before(row[since], moment) and key not in held.get(table.name, set()):
                    fate = action
            expected[table.name][key] = fate
    return expected


def _masked_properly(table: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    problems = []
    if table == "customers":
        if not str(after["full_name"]).startswith("p-"):
            problems.append("full_name not pseudonymised")
        if not str(after["email"]).endswith("@erased.invalid"):
            problems.append("email not masked")
        if before["phone"] is not None and set(state.digits(after["phone"])[2:]) - {"0"}:
            problems.append("phone still diallable")
        if before["birth_date"] is not None:
            born = state.canonical(after["birth_date"])
            if not str(born).endswith("-01-01"):
                problems.append(f"birth date not cut to the year: {born}")
        unchanged = ("id", "created_at", "referred_by", "restricted")
    else:
        if not str(after["payer_name"]).startswith("p-"):
            problems.append("payer name not pseudonymised")
        if after["payer_account"] is not None:
            problems.append("payer account kept")
        unchanged = ("id", "order_id", "amount", "method", "paid_at")
    for column in unchanged:
        if state.canonical(before[column]) != state.canonical(after[column]):
            problems.append(f"{column} changed")
    return problems


def _problems(
    before: state.Snapshot, after: state.Snapshot, expected: dict[str, dict[Any, str]]
) -> list[str]:
    problems = []
    for table, fates in expected.items():
        for key, fate in fates.items():
            old, new = before[table][key], after[table].get(key)
            where = f"{table}{list(key)}"
            if fate == "deleted" and new is not None:
                problems.append(f"{where}: past its period but still there")
            elif fate == "kept" and state.canonical_row(old) != state.canonical_row(new or {}):
                problems.append(f"{where}: not due (or held) but changed")
            elif fate == "masked":
                if new is None:
                    problems.append(f"{where}: deleted instead of anonymised")
                else:
                    problems += [f"{where}: {p}" for p in _masked_properly(table, old, new)]
    return problems


def _sweep(session: Session, organisation: Organisation, **options: Any) -> RetentionRun:
    _, manifest = service.manifest_in_force(session, organisation)
    return run_retention(session, organisation, manifest, now=NOW, **options)


def test_the_sweep_anonymises_and_deletes_exactly_the_rows_past_their_period(
    shop_url: str, migrated_engine: Engine, settings: Settings
) -> None:
    session, organisation = _organisation(migrated_engine, shop_url)
    _open_request(session, organisation)
    before = state.snapshot(shop_url, shop.metadata)
    expected = _expected()
    assert sum(f != "kept" for fates in expected.values() for f in fates.values()) > 20

    run = _sweep(session, organisation)

    after = state.snapshot(shop_url, shop.metadata)
    assert _problems(before, after, expected) == []
    assert run.status == SweepStatus.DONE.value
    report = run.report or {}
    tables = {t["table"]: t for t in report["tables"]}
    counts = {
        n: {f: list(v.values()).count(f) for f in ("masked", "deleted")}
        for n, v in expected.items()
    }
    assert tables["customers"]["done"] == counts["customers"]["masked"]
    assert tables["customers"]["skipped"] == 1  # the customer whose request is open
    assert tables["whatsapp_messages"]["done"] == counts["whatsapp_messages"]["deleted"]
    assert tables["payments"]["action"] == "anonymise"
    assert tables["payments"]["rule_action"] == "delete"
    assert tables["payments"]["reason"]["message"] == HELD_ANONYMISED
    assert tables["payments"]["legal_source"] == "UU KUP Pasal 28 ayat (11)"
    assert tables["payments"]["done"] == counts["payments"]["masked"]
    sql = tables["whatsapp_messages"]["sql"]
    assert re.search(r"[`\"]sent_at[`\"] < ", sql[0]), sql
    assert sql[1].startswith("DELETE FROM"), sql
    assert [(w["table"], w["message"]) for w in report["waiting"] if w["rule"]] == [
        ("addresses", NEEDS_LEDGER)
    ]
    assert any(c["message"] == CONSENT_VS_MINIMUM for c in report["conflicts"]), report["conflicts"]
    assert {b["job"] for b in report["built_in"]} >= {"rights.sweep", "rights.bundles_expire"}

    second = _sweep(session, organisation)
    assert state.snapshot(shop_url, shop.metadata) == after  # nothing more changes
    assert second.id != run.id and second.status == SweepStatus.DONE.value
    assert all(t["done"] == 0 for t in (second.report or {})["tables"])
    session.close()


def test_a_sweep_that_died_between_batches_resumes_where_it_stopped(
    shop_url: str, migrated_engine: Engine, settings: Settings
) -> None:
    session, organisation = _organisation(migrated_engine, shop_url, batch_size=3)
    _open_request(session, organisation)
    before = state.snapshot(shop_url, shop.metadata)
    batches: list[str] = []

    class Died(Exception):
        pass

    def dies_on_the_fourth_batch(sweep: Any, seen: int) -> None:
        batches.append(sweep.table.name)
        if len(batches) == 4:
            raise Died

    with pytest.raises(Died):
        _sweep(session, organisation, on_batch=dies_on_the_fourth_batch)
    session.rollback()
    (dead,) = session.scalars(select(RetentionRun)).all()
    assert dead.status == SweepStatus.RUNNING.value
    dead.lease_until = datetime.now(UTC) - timedelta(seconds=1)  # its process is gone
    session.commit()
    halfway = state.snapshot(shop_url, shop.metadata)
    assert halfway != before

    resumed = _sweep(session, organisation)

    assert resumed.id == dead.id and resumed.status == SweepStatus.DONE.value
    assert _problems(before, state.snapshot(shop_url, shop.metadata), _expected()) == []
    expected = _expected()
    tables = {t["table"]: t for t in (resumed.report or {})["tables"]}
    assert tables["customers"]["done"] == list(expected["customers"].values()).count("masked")
    assert all(p.finished for p in session.scalars(select(RetentionProgress)).all())
    session.close()


def test_the_plan_counts_and_shows_the_sql_and_changes_nothing(
    shop_url: str, migrated_engine: Engine, settings: Settings
) -> None:
    session, organisation = _organisation(migrated_engine, shop_url)
    _open_request(session, organisation)
    before = state.snapshot(shop_url, shop.metadata)
    _, manifest = service.manifest_in_force(session, organisation)

    plan = plan_retention(session, organisation, manifest, cutoff=NOW)

    assert state.snapshot(shop_url, shop.metadata) == before
    assert plan.problems == []
    expected = _expected()
    counts = {c.sweep.table.name: c for c in plan.counts}
    held = _held_keys()
    rows = shop.generate().rows
    due_customers = sum(_before(r["created_at"], CUSTOMERS_BEFORE) for r in rows["customers"])
    assert counts["customers"].due == due_customers
    assert counts["customers"].skipped == len(
        [r for r in rows["customers"] if (r["id"],) in held["customers"]
         and _before(r["created_at"], CUSTOMERS_BEFORE)]
    )  # fmt: skip
    assert counts["whatsapp_messages"].due == list(expected["whatsapp_messages"].values()).count(
        "deleted"
    )
    for statement in counts["payments"].sql:  # values are bound, never written in the SQL
        assert re.search(r"\?|%s|%\(\w+\)s", statement) and "2025" not in statement
    assert session.scalars(select(RetentionRun)).all() == []
    session.close()


def test_the_command_line_plans_then_sweeps_and_a_second_sweep_changes_nothing(
    cli_environment: str, migrated_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    with scratch_target("sqlite", tmp_path / "shop") as url:
        shop.create(url)
        session, organisation = _organisation(migrated_engine, url)
        session.close()
        before = state.snapshot(url, shop.metadata)
        org = organisation.slug

        planned = CliRunner().invoke(app, ["retention", "plan", org, "--lang", "en"])

        assert planned.exit_code == 0, planned.output
        assert "platform_db.customers" in planned.output
        assert "Nothing was changed: this is the plan only." in planned.output
        assert "platform_db.addresses: the period runs until consent is withdrawn" in planned.output
        assert "handled by the job rights.sweep" in planned.output
        assert state.snapshot(url, shop.metadata) == before

        swept = CliRunner().invoke(app, ["retention", "run", org, "--yes", "--lang", "en"])

        assert swept.exit_code == 0, swept.output
        done = re.search(r"platform_db\.whatsapp_messages: (\d+) deleted", swept.output)
        assert done and int(done.group(1)) > 0, swept.output
        after = state.snapshot(url, shop.metadata)
        assert after != before
        again = CliRunner().invoke(app, ["retention", "run", org, "--yes", "--lang", "en"])
        assert again.exit_code == 0, again.output
        assert "platform_db.customers: 0 anonymised" in again.output
        assert state.snapshot(url, shop.metadata) == after
