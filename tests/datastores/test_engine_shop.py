"""The datastore engine on an Indonesian online shop, on SQLite, PostgreSQL and MariaDB:
every request's result against an oracle written without the engine (datasets/shop.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "datasets"))

import database_state as state
import shop
from engine_runs import (
    ERASURE_KEY,
    accessed,
    changes_problems,
    dialect_of,
    statement_problems,
)
from fake_people import seeded

from jagadata.datastores.dryrun import dry_run
from jagadata.datastores.engine import (
    Operation,
    compile_plan,
    connect,
    erase,
    rectify,
    restrict,
)
from jagadata.datastores.errors import DatastoreError, MappingError
from jagadata.datastores.results import Outcome, Person, Report
from jagadata.manifest.mapping import Datastore

SYSTEM = "shop_db"
PEOPLE = ("rich", "referrer", "plain", "messages_only", "buyer")
DATA = shop.generate()
MAPPING = shop.mapping()


@pytest.fixture
def shop_url(target_url: str) -> str:
    """An empty database on each engine, filled with the shop."""
    shop.create(target_url)
    return target_url


def _snapshot(url: str) -> state.Snapshot:
    return state.snapshot(url, shop.metadata)


def _erase(url: str, people: list[Person], mapping: Datastore = MAPPING) -> Report:
    with connect(url) as conn:
        plan = compile_plan(mapping, Operation.ERASE, people, system=SYSTEM)
        return erase(conn, plan, key=ERASURE_KEY)


def _variant(change: dict[str, Any]) -> Datastore:
    """The shop's mapping with one table added or replaced."""
    raw = MAPPING.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    raw["tables"] = [t for t in raw["tables"] if t["name"] != change["name"]] + [change]
    return Datastore.model_validate(raw)


def test_the_mapping_validates_and_the_roles_hold() -> None:
    """The dataset has what the tests rely on: the rich customer in every table, the plain
    one in customers only, the referrer with two referrals, and messages from a non-customer."""
    rows = {name: len(rows) for name, rows in DATA.rows.items()}
    assert MAPPING.table("payments").hold.legal_source == "UU KUP Pasal 28 ayat (11)"  # type: ignore[union-attr]
    assert rows["customers"] >= 30
    customers = {r["id"]: r for r in DATA.rows["customers"]}
    assert customers[shop.RICH]["email"] != customers[shop.RICH]["email"].strip().lower()
    assert [c for c, r in customers.items() if r["referred_by"] == shop.REFERRER] == list(
        shop.REFERRED_BY_REFERRER
    )


@pytest.mark.parametrize("who", PEOPLE)
def test_access_returns_exactly_the_persons_rows(shop_url: str, who: str) -> None:
    before = _snapshot(shop_url)
    person = DATA.people[who]
    expected = state.rows_of(before, shop.person_rows(before, [person]))
    assert expected, "the oracle finds the person"

    got, count = accessed(shop_url, MAPPING, [person], SYSTEM)

    assert got == expected
    assert count == sum(map(len, expected.values())), "a row came twice"
    assert _snapshot(shop_url) == before


def test_access_of_the_rich_customer_reaches_every_table(shop_url: str) -> None:
    got, _ = accessed(shop_url, MAPPING, [DATA.people["rich"]], SYSTEM)
    assert set(got) == {t.name for t in MAPPING.tables}


def test_access_by_email_alone_does_not_find_messages_tied_to_the_phone(shop_url: str) -> None:
    """WhatsApp messages are tied to a number only: a request naming only the email does
    not reach them (the oracle agrees)."""
    person = Person.of(email=DATA.people["rich"].identities["email"][0])
    before = _snapshot(shop_url)
    expected = state.rows_of(before, shop.person_rows(before, [person]))

    got, _ = accessed(shop_url, MAPPING, [person], SYSTEM)

    assert "whatsapp_messages" not in expected
    assert got == expected


def test_access_finds_the_same_rows_however_the_identities_are_typed(shop_url: str) -> None:
    """The phone as +62…, 62… or 0…, with spaces or dashes or none; the email in any case
    with spaces around. An address that only ends like theirs, or a number one digit
    longer, is someone else."""
    rich = next(r for r in DATA.rows["customers"] if r["id"] == shop.RICH)
    national = state.national_phone(rich["phone"])
    email = state.plain_email(rich["email"])
    expected, _ = accessed(shop_url, MAPPING, [DATA.people["rich"]], SYSTEM)
    typings = [
        Person.of(phone=national, email=f"  {email.upper()}"),
        Person.of(phone="+62" + national[1:], email=email.title()),
        Person.of(phone=f"62 {national[1:4]}-{national[4:]}", email=email),
    ]
    for person in typings:
        assert accessed(shop_url, MAPPING, [person], SYSTEM)[0] == expected
    together, count = accessed(shop_url, MAPPING, typings, SYSTEM)
    assert together == expected
    assert count == sum(map(len, expected.values())), "the same person named thrice"
    assert len(expected["whatsapp_messages"]) == 3
    assert len(expected["customers"]) == 1


def test_a_person_nobody_matches_is_found_nowhere_and_erasing_them_changes_nothing(
    shop_url: str,
) -> None:
    nobody = Person.of(email="tidak.ada@example.net", phone="0899 0000 1111")
    before = _snapshot(shop_url)

    assert accessed(shop_url, MAPPING, [nobody], SYSTEM) == ({}, 0)
    report = _erase(shop_url, [nobody])

    assert _snapshot(shop_url) == before
    assert all(entry.found == 0 and not entry.counts for entry in report.tables)


@pytest.mark.parametrize("who", PEOPLE)
def test_erasure_leaves_exactly_the_expected_state_and_a_rerun_changes_nothing(
    shop_url: str, who: str
) -> None:
    before = _snapshot(shop_url)
    person = DATA.people[who]
    expected = shop.expected_erasure(before, [person])

    report = _erase(shop_url, [person])
    after = _snapshot(shop_url)

    assert state.erasure_problems(before, after, MAPPING, shop.metadata, expected) == []
    assert state.reported_counts(MAPPING, report) == state.expected_counts(MAPPING, expected)
    if expected.found["payments"]:
        held = report.table("payments")
        assert (held.legal_source, held.reason) == (
            "UU KUP Pasal 28 ayat (11)",
            MAPPING.table("payments").hold.reason.id,  # type: ignore[union-attr]
        )

    _erase(shop_url, [person])
    assert _snapshot(shop_url) == after


def test_erasing_the_rich_customer_keeps_held_payments_and_what_they_point_at(
    shop_url: str,
) -> None:
    """Spelled out for the rich customer: paid orders and the customer stay masked (the
    hold, then RESTRICT), the unpaid order and every item go, the referral they made stays."""
    before = _snapshot(shop_url)
    _erase(shop_url, [DATA.people["rich"]])
    after = _snapshot(shop_url)

    orders = {k[0] for k, r in before["orders"].items() if r["customer_id"] == shop.RICH}
    assert len(orders) == 3
    assert {k[0] for k in after["orders"]} & orders == {
        r["order_id"] for r in before["payments"].values() if r["order_id"] in orders
    }
    assert not {k[0] for k in after["order_items"]} & orders
    customer = after["customers"][(shop.RICH,)]
    assert (
        customer["restricted"] and customer["email"] != before["customers"][(shop.RICH,)]["email"]
    )
    assert after["customers"][(shop.REFERRED_BY_RICH,)]["referred_by"] == shop.RICH
    pseudonym = customer["full_name"]
    assert {r["payer_name"] for r in after["payments"].values() if r["order_id"] in orders} == {
        pseudonym
    }


def test_erasing_the_referrer_unlinks_the_people_they_referred(shop_url: str) -> None:
    before = _snapshot(shop_url)
    report = _erase(shop_url, [DATA.people["referrer"]])
    after = _snapshot(shop_url)

    assert (shop.REFERRER,) not in after["customers"]
    for referred in shop.REFERRED_BY_REFERRER:
        assert after["customers"][(referred,)] == {
            **before["customers"][(referred,)],
            "referred_by": None,
        }
    assert report.table("customers").counts.get(Outcome.UNLINKED) == len(shop.REFERRED_BY_REFERRER)


def test_erasing_a_referrer_with_one_they_referred_unlinks_only_the_one_who_stays(
    shop_url: str,
) -> None:
    first, second = shop.REFERRED_BY_REFERRER
    referred = next(r for r in DATA.rows["customers"] if r["id"] == first)
    people = [DATA.people["referrer"], Person.of(email=referred["email"])]
    before = _snapshot(shop_url)
    expected = shop.expected_erasure(before, people)
    assert set(expected.unlinked["customers"]) == {(second,)}

    report = _erase(shop_url, people)

    problems = state.erasure_problems(before, _snapshot(shop_url), MAPPING, shop.metadata, expected)
    assert problems == []
    assert state.reported_counts(MAPPING, report) == state.expected_counts(MAPPING, expected)


@pytest.mark.parametrize("batch_size", [1000, 2])
def test_erasing_many_people_in_one_plan_equals_the_oracle_for_all(
    shop_url: str, batch_size: int
) -> None:
    """Also when the keys go in batches smaller than the rows found."""
    people = [DATA.people[who] for who in PEOPLE]
    mapping = MAPPING.model_copy(update={"batch_size": batch_size})
    before = _snapshot(shop_url)
    expected = shop.expected_erasure(before, people)

    report = _erase(shop_url, people, mapping)

    problems = state.erasure_problems(before, _snapshot(shop_url), MAPPING, shop.metadata, expected)
    assert problems == []
    assert state.reported_counts(MAPPING, report) == state.expected_counts(MAPPING, expected)


@pytest.mark.parametrize("batch_size", [1000, 2])
def test_access_for_many_people_in_one_plan_is_the_union_of_single_plans(
    shop_url: str, batch_size: int
) -> None:
    people = [DATA.people[who] for who in PEOPLE]
    mapping = MAPPING.model_copy(update={"batch_size": batch_size})
    union: dict[str, set[Any]] = {}
    for person in people:
        for table, rows in accessed(shop_url, MAPPING, [person], SYSTEM)[0].items():
            union.setdefault(table, set()).update(rows)
    before = _snapshot(shop_url)

    got, count = accessed(shop_url, mapping, people, SYSTEM)

    assert got == union == state.rows_of(before, shop.person_rows(before, people))
    assert count == sum(map(len, got.values()))


def test_rectification_changes_exactly_the_given_columns_of_the_persons_rows(
    shop_url: str,
) -> None:
    before = _snapshot(shop_url)
    person = DATA.people["rich"]
    found = shop.person_rows(before, [person])
    name = seeded(11).name()
    changes = {
        "customers.phone": "+6281299990000",
        "addresses.phone": "081299990000",
        "orders.shipping_name": name,
    }

    with connect(shop_url) as conn:
        plan = compile_plan(MAPPING, Operation.RECTIFY, [person], system=SYSTEM)
        report = rectify(conn, plan, changes=changes)

    wanted = {
        "customers": {k: {"phone": "+6281299990000"} for k in found["customers"]},
        "addresses": {k: {"phone": "081299990000"} for k in found["addresses"]},
        "orders": {k: {"shipping_name": name} for k in found["orders"]},
    }
    assert changes_problems(before, _snapshot(shop_url), wanted) == []
    assert report.table("customers").counts.get(Outcome.UPDATED) == len(found["customers"])
    assert report.table("addresses").counts.get(Outcome.UPDATED) == len(found["addresses"])
    assert report.table("orders").counts.get(Outcome.UPDATED) == len(found["orders"]) == 3


def test_rectifying_a_column_not_correctable_is_refused_and_changes_nothing(
    shop_url: str,
) -> None:
    before = _snapshot(shop_url)
    with pytest.raises(DatastoreError), connect(shop_url) as conn:
        plan = compile_plan(MAPPING, Operation.RECTIFY, [DATA.people["rich"]], system=SYSTEM)
        rectify(conn, plan, changes={"whatsapp_messages.body": "pesan lain"})
    assert _snapshot(shop_url) == before


@pytest.mark.parametrize("who", ["rich", "plain"])
def test_restriction_marks_the_persons_rows_and_only_theirs(shop_url: str, who: str) -> None:
    before = _snapshot(shop_url)
    person = DATA.people[who]
    found = shop.person_rows(before, [person])

    with connect(shop_url) as conn:
        report = restrict(conn, compile_plan(MAPPING, Operation.RESTRICT, [person], system=SYSTEM))

    wanted = {
        table: {k: {"restricted": True} for k in found[table]}
        for table in ("customers", "payments")
    }
    assert changes_problems(before, _snapshot(shop_url), wanted) == []
    for table in ("customers", "payments"):
        assert report.table(table).counts.get(Outcome.RESTRICTED, 0) == len(found[table])


def test_a_table_no_identity_reaches_is_refused_before_anything_runs(shop_url: str) -> None:
    mapping = _variant({"name": "products", "key": ["id"], "columns": []})
    before = _snapshot(shop_url)

    for operation in Operation:
        with pytest.raises(MappingError, match="products"):
            compile_plan(mapping, operation, [DATA.people["rich"]], system=SYSTEM)

    assert _snapshot(shop_url) == before


@pytest.mark.parametrize(
    "table",
    [
        {
            "name": "loyalty_points",
            "key": ["code"],
            "references": [{"columns": ["customer_id"], "table": "customers", "declared": False}],
            "columns": [{"name": "tier", "category": "orders"}],
        },
        {
            "name": "loyalty_points",
            "key": ["code"],
            "references": [{"columns": ["member_id"], "table": "customers", "declared": False}],
        },
        {
            "name": "loyalty_points",
            "key": ["code"],
            "references": [{"columns": ["customer_id"], "table": "members", "declared": False}],
        },
    ],
    ids=["unknown-mapped-column", "unknown-reference-column", "unknown-reference-table"],
)
def test_a_mapping_naming_an_unknown_column_is_refused_and_nothing_changes(
    shop_url: str, table: dict[str, Any]
) -> None:
    before = _snapshot(shop_url)
    with pytest.raises(MappingError):
        _erase(shop_url, [DATA.people["rich"]], _variant(table))
    assert _snapshot(shop_url) == before


def _orders_with(column: dict[str, Any]) -> Datastore:
    """The mapping with one column of orders mapped as given."""
    orders = MAPPING.table("orders")
    assert orders is not None
    raw = orders.model_dump(mode="json", exclude_defaults=True)
    raw["columns"] = [c for c in raw["columns"] if c["name"] != column["name"]] + [column]
    return _variant(raw)


def test_a_null_mask_on_a_not_null_column_writes_the_empty_text(shop_url: str) -> None:
    """shipping_name is NOT NULL: in the orders the rich customer's payments keep, a NULL
    mask leaves it empty, never the name and never a broken constraint."""
    mapping = _orders_with({"name": "shipping_name", "category": "identity", "mask": "null"})
    before = _snapshot(shop_url)
    person = DATA.people["rich"]
    expected = shop.expected_erasure(before, [person])

    _erase(shop_url, [person], mapping)

    after = _snapshot(shop_url)
    assert state.erasure_problems(before, after, mapping, shop.metadata, expected) == []
    assert {after["orders"][k]["shipping_name"] for k in expected.masked["orders"]} == {""}


def test_a_mask_the_column_cannot_hold_is_refused_before_anything_changes(
    shop_url: str,
) -> None:
    """A fixed text cannot be written into the orders' integer total: nothing is done."""
    mapping = _orders_with(
        {"name": "total", "category": "orders", "mask": "fixed", "value": "[dihapus]"}
    )
    before = _snapshot(shop_url)

    with pytest.raises(MappingError, match="total"):
        _erase(shop_url, [DATA.people["rich"]], mapping)

    assert _snapshot(shop_url) == before


@pytest.mark.parametrize("operation", list(Operation))
def test_the_dry_run_shows_quoted_names_and_placeholders_never_values(
    target_url: str, operation: Operation
) -> None:
    people = [DATA.people[who] for who in PEOPLE]
    plan = compile_plan(MAPPING, operation, people, system=SYSTEM)

    statements = dry_run(plan, dialect_of(target_url))

    assert statements
    assert statement_problems(statements, MAPPING, people) == []
    assert all(re.search(r"%\(\w+\)s|:\w+|\?|%s", sql) for sql in statements if "WHERE" in sql)
