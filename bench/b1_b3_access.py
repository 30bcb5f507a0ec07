"""B1 and B3: access requests on the synthetic Indonesian shop (bench/datastore_data.py).

    .venv/bin/python bench/datastore_data.py            # once: the shop, 1,000,000 customers
    .venv/bin/python bench/b1_b3_access.py [--people 200] [--batch 1000] [--batches 3] [--seed 1]

B1 — one person's access request (target <= 1.5x the lower bound): the engine compiles the
plan of bench/shop_bench.yaml for a person named by email (typed in capitals) and phone number
(typed 08xx-…), then reads every row of theirs breadth-first over the references (21 tables,
~100 rows), on one connection, in one REPEATABLE READ snapshot. The lower bound, timed in the
same run on its own connection, is what a developer would write by hand for this schema: the
same rows fetched by one indexed query per table (joins up the references), in one snapshot,
through psycopg without SQLAlchemy. Each person is asked of both, in alternating order, after
one untimed read of their rows (so both read from a warm cache: the figure is the engine's own
cost, not the disk's), and the figure is the ratio of the median latencies.

B3 — access requests for 1,000 people at once (target >= 0.5x the lower bound's people/s):
one plan for all of them against the hand-written queries batched with `= ANY(%s)`, each batch
of people read once untimed first, then by both in alternating order.

Every answer is checked: the engine's rows, table by table, must equal the hand-written
queries' rows, and a person must have rows in every table their data reaches. Prints one line
per figure and writes bench/results/b1_b3.json.
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
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
import yaml

from jagadata.datastores.engine import Operation, access, compile_plan, connect
from jagadata.datastores.results import Person
from jagadata.manifest.mapping import Datastore

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "b1_b3.json"
MAPPING = BENCH / "shop_bench.yaml"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/jagadata_bench"
SYSTEM = "shop"

Found = dict[str, Counter[tuple[str, ...]]]
"""Per table, the rows found (as text, so both drivers' values compare), with multiplicity."""

# The hand-written queries: one per table, each on an indexed column with the keys found at
# the level before (`= ANY(%s)`), as a developer writes them for this schema; a table reached by
# two references asks for both at once (PostgreSQL ORs the two index scans).
LEVELS: list[tuple[str, str, tuple[str, ...]]] = [
    ("customer_addresses", "customer_id = ANY(%s)", ("customers",)),
    ("customer_devices", "customer_id = ANY(%s)", ("customers",)),
    ("activity_logs", "customer_id = ANY(%s)", ("customers",)),
    ("carts", "customer_id = ANY(%s)", ("customers",)),
    ("wishlist_items", "customer_id = ANY(%s)", ("customers",)),
    ("reviews", "customer_id = ANY(%s)", ("customers",)),
    ("loyalty_accounts", "customer_id = ANY(%s)", ("customers",)),
    ("support_tickets", "customer_id = ANY(%s)", ("customers",)),
    ("orders", "customer_id = ANY(%s) OR address_id = ANY(%s)",
     ("customers", "customer_addresses")),
    ("cart_items", "cart_id = ANY(%s)", ("carts",)),
    ("ticket_messages", "ticket_id = ANY(%s)", ("support_tickets",)),
    ("order_items", "order_id = ANY(%s)", ("orders",)),
    ("payments", "order_id = ANY(%s)", ("orders",)),
    ("shipments", "order_id = ANY(%s)", ("orders",)),
    ("voucher_redemptions", "customer_id = ANY(%s) OR order_id = ANY(%s)",
     ("customers", "orders")),
    ("loyalty_transactions", "account_id = ANY(%s) OR order_id = ANY(%s)",
     ("loyalty_accounts", "orders")),
    ("refunds", "payment_id = ANY(%s)", ("payments",)),
    ("shipment_events", "shipment_id = ANY(%s)", ("shipments",)),
]  # fmt: skip
TABLES = ["customers", "wa_messages", "newsletter_subscribers", *(t for t, _, _ in LEVELS)]


def conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def as_text(row: Sequence[Any]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in row)


def hand_written(db: psycopg.Connection[Any], people: Sequence[tuple[str, str]]) -> Found:
    """Every row of these people (email as stored, phone as +62…), by the queries a developer
    writes for this schema, in one REPEATABLE READ snapshot."""
    emails = [email for email, _ in people]
    phones = [phone for _, phone in people]
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with db.transaction():
        rows["customers"] = db.execute(
            "SELECT * FROM customers WHERE email = ANY(%s) OR phone = ANY(%s)", (emails, phones)
        ).fetchall()
        rows["wa_messages"] = db.execute(
            "SELECT * FROM wa_messages WHERE phone = ANY(%s)", ([p[1:] for p in phones],)
        ).fetchall()
        rows["newsletter_subscribers"] = db.execute(
            "SELECT * FROM newsletter_subscribers WHERE lower(trim(email)) = ANY(%s)", (emails,)
        ).fetchall()
        for table, where, sources in LEVELS:
            keys = [[row[0] for row in rows[source]] for source in sources]
            rows[table] = db.execute(f"SELECT * FROM {table} WHERE {where}", keys).fetchall()
    return {table: Counter(as_text(r) for r in found) for table, found in rows.items()}


def by_engine(conn: Any, datastore: Datastore, people: Sequence[tuple[str, str]]) -> Found:
    """Every row of these people as jagadata's engine finds them, from identities typed the
    way people type them: the email in capitals, the phone number as 08xx-xxxx-xxxx."""
    persons = [
        Person.of(email=email.upper(), phone=f"0{phone[3:6]}-{phone[6:10]}-{phone[10:]}")
        for email, phone in people
    ]
    plan = compile_plan(datastore, Operation.ACCESS, persons, system=SYSTEM)
    found: Found = {}
    for batch in access(conn, plan):
        found.setdefault(batch.table.name, Counter()).update(as_text(r) for r in batch.rows)
    return found


def check(engine: Found, lower: Found, people: int) -> int:
    """The number of rows, once the engine's rows are known to be exactly the hand-written
    queries' rows and every table holds some of them."""
    for table in sorted(set(engine) | set(lower)):
        if engine.get(table, Counter()) != lower.get(table, Counter()):
            sys.exit(f"WRONG: the engine's rows of {table} differ from the hand-written ones")
    if len(lower["customers"]) != people:
        sys.exit(f"WRONG: {len(lower['customers'])} customers found for {people} people")
    for table in TABLES:
        if not lower[table] and table not in ("refunds", "newsletter_subscribers"):
            sys.exit(f"WRONG: no rows of {table} for people who have some")
    return sum(sum(c.values()) for c in lower.values())


def pick_people(db: psycopg.Connection[Any], count: int, rng: random.Random) -> list[Any]:
    """Customers picked at random among those not erased by an earlier B2 run."""
    (top,) = db.execute("SELECT max(id) FROM customers").fetchone() or (0,)
    chosen: list[Any] = []
    seen: set[int] = set()
    while len(chosen) < count:
        ids = [rng.randrange(1, top + 1) for _ in range(count * 2)]
        ids = [i for i in ids if i not in seen]
        seen.update(ids)
        rows = db.execute(
            "SELECT email, phone FROM customers WHERE id = ANY(%s) "
            "AND email NOT LIKE '%%.invalid' ORDER BY array_position(%s, id)",
            (ids, ids),
        ).fetchall()
        chosen += rows[: count - len(chosen)]
    db.commit()
    return chosen


def line(name: str, value: float, unit: str, ratio: float, baseline: str) -> str:
    digits = 0 if value >= 100 else 2
    return f"{name}: {value:.{digits}f} {unit} (ratio {ratio:.2f} vs {baseline})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=200, help="single requests timed (B1)")
    parser.add_argument("--batch", type=int, default=1000, help="people per bulk request (B3)")
    parser.add_argument("--batches", type=int, default=3, help="bulk requests timed (B3)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = os.environ.get("JAGADATA_BENCH_URL", DEFAULT_URL)
    datastore = Datastore.model_validate(yaml.safe_load(MAPPING.read_text(encoding="utf-8")))
    rng = random.Random(args.seed)
    db = psycopg.connect(conninfo(url))
    db.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    db.read_only = True
    (customers,) = db.execute("SELECT count(*) FROM customers").fetchone() or (0,)
    db.commit()
    if not customers:
        sys.exit("The shop is empty: run bench/datastore_data.py first.")
    people = pick_people(db, args.people + 20, rng)
    engine_ms: list[float] = []
    lower_ms: list[float] = []
    rows_per_person: list[int] = []
    with connect(url) as conn:
        for n, person in enumerate(people):
            hand_written(db, [person])  # both then read from a warm cache
            timed: dict[str, tuple[float, Found]] = {}
            runs = [("engine", lambda p=person: by_engine(conn, datastore, [p])),
                    ("lower", lambda p=person: hand_written(db, [p]))]  # fmt: skip
            for name, run in runs if n % 2 else runs[::-1]:
                started = time.perf_counter()
                found = run()
                timed[name] = (time.perf_counter() - started) * 1000, found
            rows = check(timed["engine"][1], timed["lower"][1], 1)
            if n >= 20:  # the first 20 warm both up
                engine_ms.append(timed["engine"][0])
                lower_ms.append(timed["lower"][0])
                rows_per_person.append(rows)
        bulk: list[dict[str, float]] = []
        for b in range(args.batches):
            batch = pick_people(db, args.batch, rng)
            hand_written(db, batch)
            timed_bulk: dict[str, tuple[float, Found]] = {}
            runs_bulk = [("engine", lambda chosen=batch: by_engine(conn, datastore, chosen)),
                         ("lower", lambda chosen=batch: hand_written(db, chosen))]  # fmt: skip
            for name, run in runs_bulk if b % 2 else runs_bulk[::-1]:
                started = time.perf_counter()
                found = run()
                timed_bulk[name] = (time.perf_counter() - started), found
            rows = check(timed_bulk["engine"][1], timed_bulk["lower"][1], len(batch))
            bulk.append(
                {
                    "engine_people_s": len(batch) / timed_bulk["engine"][0],
                    "lower_people_s": len(batch) / timed_bulk["lower"][0],
                    "rows": rows,
                }
            )
    db.close()

    engine_median, lower_median = statistics.median(engine_ms), statistics.median(lower_ms)
    b1_ratio = engine_median / lower_median
    b3_engine = statistics.median(b["engine_people_s"] for b in bulk)
    b3_lower = statistics.median(b["lower_people_s"] for b in bulk)
    b3_ratios = [b["engine_people_s"] / b["lower_people_s"] for b in bulk]
    b3_ratio = statistics.median(b3_ratios)
    print(line("b1_access_one_person", engine_median, "ms", b1_ratio, "hand_written_sql"))
    print(line("b1_hand_written_sql", lower_median, "ms", 1.0, "hand_written_sql"))
    print(
        f"b1_rows_per_person: {statistics.mean(rows_per_person):.1f} rows in 21 tables, "
        f"{len(engine_ms)} people, p95 engine {statistics.quantiles(engine_ms, n=20)[-1]:.1f} ms"
        f" / hand-written {statistics.quantiles(lower_ms, n=20)[-1]:.1f} ms"
    )
    print(line(f"b3_access_{args.batch}_people", b3_engine, "people/s", b3_ratio,
               "hand_written_sql_batched"))  # fmt: skip
    print(line("b3_hand_written_sql_batched", b3_lower, "people/s", 1.0,
               "hand_written_sql_batched"))  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "b1_b3_access",
        "customers": customers,
        "seed": args.seed,
        "b1": {
            "people": len(engine_ms),
            "engine_median_ms": engine_median,
            "hand_written_median_ms": lower_median,
            "ratio": b1_ratio,
            "engine_ms": engine_ms,
            "hand_written_ms": lower_ms,
            "rows_per_person_mean": statistics.mean(rows_per_person),
        },
        "b3": {"batch": args.batch, "runs": bulk, "ratio": b3_ratio, "ratios": b3_ratios},
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
