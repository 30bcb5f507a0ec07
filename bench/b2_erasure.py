"""B2: erasure of one person on the synthetic Indonesian shop (bench/datastore_data.py).

    .venv/bin/python bench/b2_erasure.py [--people 60] [--seed 2]

The engine erases a person named by email and phone number under bench/shop_bench.yaml: their
invoices (orders, order lines, payments, refunds) stay under a ten-year tax hold and are
masked, the customer row and the addresses those invoices point at stay masked, the rest of
their rows in 21 tables is deleted, children first — in one transaction. The lower bound,
timed in the same run on its own connection, is the hand-written UPDATE and DELETE statements
of the same erasure in one transaction (masks computed by PostgreSQL itself).

Both erase the same person, in alternating order, and neither commits: once the statements
have run, the benchmark checks the state inside the transaction (every row that must go is
gone, every row that must stay is there with its personal columns masked, the person's email
and phone number find nothing), then rolls back, so the shop is the same for the next run.
The timed part ends where the COMMIT would be sent. Prints one line per figure and writes
bench/results/b2.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import yaml
from b1_b3_access import DEFAULT_URL, MAPPING, SYSTEM, Found, conninfo, hand_written, pick_people

from jagadata.datastores.engine import Operation, compile_plan, connect, erase
from jagadata.datastores.results import Person, Report
from jagadata.manifest.mapping import Datastore

RESULTS = Path(__file__).resolve().parent / "results" / "b2.json"
KEY = b"b2-bench-pseudonym-key-32-bytes!"
HELD = ("orders", "order_items", "payments", "refunds")
GONE = ("customer_devices", "activity_logs", "carts", "cart_items", "wishlist_items",
        "shipments", "shipment_events", "reviews", "loyalty_accounts", "loyalty_transactions",
        "support_tickets", "ticket_messages", "wa_messages", "newsletter_subscribers",
        "voucher_redemptions")  # fmt: skip

Query = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]

HAND_WRITTEN = """
DELETE FROM shipment_events e USING shipments s, orders o
  WHERE e.shipment_id = s.id AND s.order_id = o.id AND o.customer_id = %(c)s;
DELETE FROM shipments s USING orders o WHERE s.order_id = o.id AND o.customer_id = %(c)s;
DELETE FROM loyalty_transactions t USING loyalty_accounts a
  WHERE t.account_id = a.id AND a.customer_id = %(c)s;
DELETE FROM loyalty_transactions t USING orders o WHERE t.order_id = o.id AND o.customer_id = %(c)s;
DELETE FROM loyalty_accounts WHERE customer_id = %(c)s;
DELETE FROM voucher_redemptions v USING orders o WHERE v.order_id = o.id AND o.customer_id = %(c)s;
DELETE FROM voucher_redemptions WHERE customer_id = %(c)s;
DELETE FROM cart_items i USING carts c WHERE i.cart_id = c.id AND c.customer_id = %(c)s;
DELETE FROM carts WHERE customer_id = %(c)s;
DELETE FROM wishlist_items WHERE customer_id = %(c)s;
DELETE FROM reviews WHERE customer_id = %(c)s;
DELETE FROM customer_devices WHERE customer_id = %(c)s;
DELETE FROM activity_logs WHERE customer_id = %(c)s;
DELETE FROM ticket_messages m USING support_tickets t
  WHERE m.ticket_id = t.id AND t.customer_id = %(c)s;
DELETE FROM support_tickets WHERE customer_id = %(c)s;
DELETE FROM wa_messages WHERE phone = %(digits)s;
DELETE FROM newsletter_subscribers WHERE lower(trim(email)) = %(email)s;
UPDATE payments p SET payer_name = 'p-' || left(md5(%(k)s || p.payer_name), 16),
  card_last4 = NULL FROM orders o WHERE p.order_id = o.id AND o.customer_id = %(c)s;
UPDATE refunds r SET reason = '[dihapus]' FROM payments p, orders o
  WHERE r.payment_id = p.id AND p.order_id = o.id AND o.customer_id = %(c)s;
DELETE FROM customer_addresses a WHERE a.customer_id = %(c)s
  AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.address_id = a.id);
UPDATE customer_addresses SET recipient_name = 'p-' || left(md5(%(k)s || recipient_name), 16),
  phone = '+62000' || right(phone, 4), street = '[dihapus]' WHERE customer_id = %(c)s;
UPDATE customers SET full_name = 'p-' || left(md5(%(k)s || full_name), 16),
  email = 'p-' || left(md5(%(k)s || email), 16) || '@erased.invalid',
  phone = '+62000' || right(phone, 4), nik = NULL,
  birth_date = date_trunc('year', birth_date)::date, gender = 'X' WHERE id = %(c)s;
"""
"""The erasure by hand: children first, invoices masked, the customer and the addresses the
invoices point at masked, everything else deleted."""
STATEMENTS = [s.strip() for s in HAND_WRITTEN.split(";") if s.strip()]


class RolledBack(Exception):
    """Raised inside the transaction once it is checked: nothing is committed."""


def ids(before: Found, table: str) -> list[int]:
    return [int(row[0]) for row in before.get(table, {})]


def verify(query: Query, before: Found, person: tuple[str, str]) -> None:
    """Exit unless the person's state, inside the erasing transaction, is what erasure must
    leave: rows gone or kept masked, and nothing found by their email or phone any more."""
    email, phone = person
    for table in GONE:
        left = query(
            f"SELECT count(*) FROM {table} WHERE id = ANY(%(i)s)", {"i": ids(before, table)}
        )
        if left[0][0]:
            sys.exit(f"WRONG: {left[0][0]} rows of {table} should have been deleted")
    for table in HELD:
        kept = query(
            f"SELECT count(*) FROM {table} WHERE id = ANY(%(i)s)", {"i": ids(before, table)}
        )
        if kept[0][0] != len(before.get(table, {})):
            sys.exit(f"WRONG: rows of {table} under a legal hold were deleted")
    found = query(
        "SELECT count(*) FROM customers WHERE email = %(e)s OR phone = %(p)s",
        {"e": email, "p": phone},
    )
    (customer,) = before["customers"]
    masked = query(
        "SELECT nik IS NULL AND gender = 'X' AND extract(doy FROM birth_date) = 1 "
        "AND full_name <> %(n)s FROM customers WHERE id = %(c)s",
        {"c": int(customer[0]), "n": customer[4]},
    )
    if found[0][0] or not masked or not masked[0][0]:
        sys.exit("WRONG: the customer row still holds the person's identity")
    payers = query(
        "SELECT count(*) FROM payments WHERE id = ANY(%(i)s) AND (payer_name = %(n)s "
        "OR card_last4 IS NOT NULL)",
        {"i": ids(before, "payments"), "n": customer[4]},
    )
    reasons = query(
        "SELECT count(*) FROM refunds WHERE id = ANY(%(i)s) AND reason <> '[dihapus]'",
        {"i": ids(before, "refunds")},
    )
    addresses = query(
        "SELECT a.id, a.street = '[dihapus]' AND a.recipient_name <> %(n)s, "
        "EXISTS (SELECT 1 FROM orders o WHERE o.address_id = a.id) "
        "FROM customer_addresses a WHERE a.id = ANY(%(i)s)",
        {"i": ids(before, "customer_addresses"), "n": customer[4]},
    )
    pointed = query(
        "SELECT count(DISTINCT address_id) FROM orders WHERE customer_id = %(c)s",
        {"c": int(customer[0])},
    )
    if payers[0][0] or reasons[0][0]:
        sys.exit("WRONG: a kept invoice still holds the person's name, card or message")
    if not all(ok and used for _, ok, used in addresses) or len(addresses) != pointed[0][0]:
        sys.exit("WRONG: addresses must stay masked where an invoice points, and go elsewhere")


def erase_by_engine(
    conn: Any, datastore: Datastore, person: tuple[str, str], before: Found
) -> tuple[float, Report]:
    """The engine's erasure, checked and rolled back; seconds until the commit would start."""
    email, phone = person
    started = time.perf_counter()
    plan = compile_plan(
        datastore,
        Operation.ERASE,
        [Person.of(email=email.upper(), phone=f"0{phone[3:6]}-{phone[6:10]}-{phone[10:]}")],
        system=SYSTEM,
    )
    outcome: dict[str, Any] = {}

    def check_then_roll_back(report: Report) -> None:
        outcome["elapsed"] = time.perf_counter() - started
        outcome["report"] = report

        def query(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in conn.connection.exec_driver_sql(sql, params).fetchall()]

        verify(query, before, person)
        raise RolledBack

    try:
        erase(conn, plan, key=KEY, before_commit=check_then_roll_back)
    except RolledBack:
        return outcome["elapsed"], outcome["report"]
    sys.exit("WRONG: the engine committed an erasure the benchmark meant to roll back")


def erase_by_hand(db: psycopg.Connection[Any], person: tuple[str, str], before: Found) -> float:
    """The hand-written erasure, checked and rolled back; seconds until the commit would."""
    email, phone = person
    started = time.perf_counter()
    try:
        with db.transaction():
            (customer_id,) = db.execute(
                "SELECT id FROM customers WHERE email = %s OR phone = %s", (email, phone)
            ).fetchone() or (None,)
            params = {"c": customer_id, "digits": phone[1:], "email": email, "k": KEY.hex()}
            for statement in STATEMENTS:
                db.execute(statement, params)
            elapsed = time.perf_counter() - started

            def query(sql: str, values: dict[str, Any]) -> list[tuple[Any, ...]]:
                return db.execute(sql, values).fetchall()

            verify(query, before, person)
            raise RolledBack
    except RolledBack:
        return elapsed


def summary(report: Report) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in report.as_dict().get("tables", []):
        for outcome in ("deleted", "masked", "unlinked"):
            totals[outcome] = totals.get(outcome, 0) + int(entry.get(outcome, 0))
    return totals


def line(name: str, value: float, unit: str, ratio: float, baseline: str) -> str:
    digits = 0 if value >= 100 else 2
    return f"{name}: {value:.{digits}f} {unit} (ratio {ratio:.2f} vs {baseline})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    url = os.environ.get("JAGADATA_BENCH_URL", DEFAULT_URL)
    datastore = Datastore.model_validate(yaml.safe_load(MAPPING.read_text(encoding="utf-8")))
    db = psycopg.connect(conninfo(url))
    db.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    people = pick_people(db, args.people + 10, random.Random(args.seed))
    engine_ms: list[float] = []
    hand_ms: list[float] = []
    rows: list[int] = []
    outcomes: list[dict[str, int]] = []
    with connect(url) as conn:
        for n, person in enumerate(people):
            before = hand_written(db, [person])
            timed: dict[str, float] = {}
            report: Report | None = None
            for name in ("engine", "hand") if n % 2 else ("hand", "engine"):
                if name == "engine":
                    timed[name], report = erase_by_engine(conn, datastore, person, before)
                else:
                    timed[name] = erase_by_hand(db, person, before)
            if n >= 10:  # the first 10 warm both up
                engine_ms.append(timed["engine"] * 1000)
                hand_ms.append(timed["hand"] * 1000)
                rows.append(sum(sum(c.values()) for c in before.values()))
                assert report is not None
                outcomes.append(summary(report))
    db.close()
    engine_median, hand_median = statistics.median(engine_ms), statistics.median(hand_ms)
    ratio = engine_median / hand_median
    print(line("b2_erase_one_person", engine_median, "ms", ratio, "hand_written_sql"))
    print(line("b2_hand_written_sql", hand_median, "ms", 1.0, "hand_written_sql"))
    print(
        f"b2_rows_per_person: {statistics.mean(rows):.1f} rows, {len(engine_ms)} people; "
        f"engine report per person (mean): "
        + ", ".join(
            f"{k} {statistics.mean(o.get(k, 0) for o in outcomes):.1f}"
            for k in ("deleted", "masked", "unlinked")
        )
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "b2_erasure",
                "people": len(engine_ms),
                "engine_median_ms": engine_median,
                "hand_written_median_ms": hand_median,
                "ratio": ratio,
                "engine_ms": engine_ms,
                "hand_written_ms": hand_ms,
                "outcomes": outcomes,
                "load_average": os.getloadavg(),
                "python": platform.python_version(),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
