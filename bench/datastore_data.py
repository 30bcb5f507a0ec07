"""The synthetic Indonesian shop that benchmarks B1–B3 run against, on the local PostgreSQL.

    .venv/bin/python bench/datastore_data.py [--customers 1000000] [--seed 6] [--jobs 2]

Creates (or re-creates) the database named in JAGADATA_BENCH_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/jagadata_bench) and fills it with a shop of 22
tables: customers with their addresses, devices, carts, wishlists, orders with their items,
payments, refunds, shipments and tracking events, reviews, loyalty points, support tickets,
WhatsApp messages (found by phone number only), newsletter subscribers (found by email only),
and an activity log that points at customers by convention, without a foreign key. About 100
rows per customer, references up to three hops from the customer (customers → orders →
payments → refunds; → shipments → shipment events), indexes and foreign keys as a real shop
has them (created after the load, as pg_restore does).

Values come from pools drawn once from Faker's id_ID locale (names, streets, cities) and
combined per row, so a million customers do not mean a hundred million Faker calls; NIKs are
valid (province, district, birth date, serial); phone numbers are unique per customer and
written the way each table's application wrote them (+62…, 62…, 08…). The same seed gives the
same database, whatever the number of processes. Rows are loaded with PostgreSQL COPY,
customers split into contiguous ranges over --jobs processes; within each chunk the child rows
are shuffled, as orders of many customers interleave in a real shop's tables.

The mapping of this schema is bench/shop_bench.yaml.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from faker import Faker
from psycopg.copy import QueuedLibpqWriter

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/jagadata_bench"
CHUNK = 2_000
"""Customers generated and copied together."""
PHONE_STEP = 48_271
"""Odd and not a multiple of 5: `i * PHONE_STEP mod 10^8` numbers customers without repeats."""
REGENCY_PROVINCES = (
    11,
    12,
    13,
    14,
    15,
    16,
    17,
    18,
    19,
    21,
    31,
    32,
    33,
    34,
    35,
    36,
    51,
    52,
    53,
    61,
    62,
    63,
    64,
    65,
    71,
    72,
    73,
    74,
    75,
    76,
    81,
    82,
    91,
    92,
    94,
)
MOBILE_PREFIXES = ("811", "812", "813", "821", "822", "852", "853", "857", "858", "878", "895")

SCHEMA = """
CREATE TABLE products (id bigint, sku text NOT NULL, name text NOT NULL, price numeric(12,2)
    NOT NULL, category text NOT NULL);
CREATE TABLE customers (id bigint, email text NOT NULL, phone text NOT NULL, nik char(16),
    full_name text NOT NULL, birth_date date, gender char(1) NOT NULL, referred_by bigint,
    created_at timestamptz NOT NULL);
CREATE TABLE customer_addresses (id bigint, customer_id bigint NOT NULL, label text NOT NULL,
    recipient_name text NOT NULL, phone text NOT NULL, street text NOT NULL, city text NOT NULL,
    postal_code char(5) NOT NULL);
CREATE TABLE customer_devices (id bigint, customer_id bigint NOT NULL, device_token text NOT NULL,
    platform text NOT NULL, last_seen_at timestamptz NOT NULL);
CREATE TABLE activity_logs (id bigint, customer_id bigint NOT NULL, event text NOT NULL,
    ip_address inet NOT NULL, user_agent text NOT NULL, at timestamptz NOT NULL);
CREATE TABLE carts (id bigint, customer_id bigint NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE cart_items (id bigint, cart_id bigint NOT NULL, product_id bigint NOT NULL,
    quantity integer NOT NULL);
CREATE TABLE wishlist_items (id bigint, customer_id bigint NOT NULL, product_id bigint NOT NULL,
    added_at timestamptz NOT NULL);
CREATE TABLE orders (id bigint, order_no text NOT NULL, customer_id bigint NOT NULL,
    address_id bigint NOT NULL, status text NOT NULL, total numeric(14,2) NOT NULL,
    placed_at timestamptz NOT NULL);
CREATE TABLE order_items (id bigint, order_id bigint NOT NULL, product_id bigint NOT NULL,
    quantity integer NOT NULL, unit_price numeric(12,2) NOT NULL);
CREATE TABLE payments (id bigint, order_id bigint NOT NULL, method text NOT NULL,
    card_last4 char(4), payer_name text NOT NULL, amount numeric(14,2) NOT NULL,
    paid_at timestamptz NOT NULL);
CREATE TABLE refunds (id bigint, payment_id bigint NOT NULL, amount numeric(14,2) NOT NULL,
    reason text NOT NULL, refunded_at timestamptz NOT NULL);
CREATE TABLE shipments (id bigint, order_id bigint NOT NULL, courier text NOT NULL,
    tracking_no text NOT NULL, recipient_name text NOT NULL, recipient_phone text NOT NULL,
    address_text text NOT NULL);
CREATE TABLE shipment_events (id bigint, shipment_id bigint NOT NULL, status text NOT NULL,
    location text NOT NULL, at timestamptz NOT NULL);
CREATE TABLE reviews (id bigint, customer_id bigint NOT NULL, product_id bigint NOT NULL,
    rating smallint NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL);
CREATE TABLE loyalty_accounts (id bigint, customer_id bigint NOT NULL, points integer NOT NULL,
    tier text NOT NULL);
CREATE TABLE loyalty_transactions (id bigint, account_id bigint NOT NULL, order_id bigint,
    points integer NOT NULL, at timestamptz NOT NULL);
CREATE TABLE support_tickets (id bigint, customer_id bigint NOT NULL, subject text NOT NULL,
    body text NOT NULL, opened_at timestamptz NOT NULL);
CREATE TABLE ticket_messages (id bigint, ticket_id bigint NOT NULL, sender text NOT NULL,
    body text NOT NULL, sent_at timestamptz NOT NULL);
CREATE TABLE wa_messages (id bigint, phone text NOT NULL, direction text NOT NULL,
    body text NOT NULL, sent_at timestamptz NOT NULL);
CREATE TABLE newsletter_subscribers (id bigint, email text NOT NULL, source text NOT NULL,
    subscribed_at timestamptz NOT NULL);
CREATE TABLE voucher_redemptions (id bigint, customer_id bigint NOT NULL, order_id bigint NOT NULL,
    code text NOT NULL, redeemed_at timestamptz NOT NULL);
"""

TABLES = re.findall(r"CREATE TABLE (\w+)", SCHEMA)

INDEXES = """
ALTER TABLE products ADD PRIMARY KEY (id);
ALTER TABLE customers ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX customers_email ON customers (email);
CREATE INDEX customers_phone ON customers (phone);
CREATE INDEX customers_nik ON customers (nik);
CREATE INDEX customers_referred_by ON customers (referred_by);
ALTER TABLE customer_addresses ADD PRIMARY KEY (id);
CREATE INDEX customer_addresses_customer ON customer_addresses (customer_id);
ALTER TABLE customer_devices ADD PRIMARY KEY (id);
CREATE INDEX customer_devices_customer ON customer_devices (customer_id);
ALTER TABLE activity_logs ADD PRIMARY KEY (id);
CREATE INDEX activity_logs_customer ON activity_logs (customer_id);
ALTER TABLE carts ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX carts_customer ON carts (customer_id);
ALTER TABLE cart_items ADD PRIMARY KEY (id);
CREATE INDEX cart_items_cart ON cart_items (cart_id);
ALTER TABLE wishlist_items ADD PRIMARY KEY (id);
CREATE INDEX wishlist_items_customer ON wishlist_items (customer_id);
ALTER TABLE orders ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX orders_order_no ON orders (order_no);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_address ON orders (address_id);
ALTER TABLE order_items ADD PRIMARY KEY (id);
CREATE INDEX order_items_order ON order_items (order_id);
ALTER TABLE payments ADD PRIMARY KEY (id);
CREATE INDEX payments_order ON payments (order_id);
ALTER TABLE refunds ADD PRIMARY KEY (id);
CREATE INDEX refunds_payment ON refunds (payment_id);
ALTER TABLE shipments ADD PRIMARY KEY (id);
CREATE INDEX shipments_order ON shipments (order_id);
ALTER TABLE shipment_events ADD PRIMARY KEY (id);
CREATE INDEX shipment_events_shipment ON shipment_events (shipment_id);
ALTER TABLE reviews ADD PRIMARY KEY (id);
CREATE INDEX reviews_customer ON reviews (customer_id);
ALTER TABLE loyalty_accounts ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX loyalty_accounts_customer ON loyalty_accounts (customer_id);
ALTER TABLE loyalty_transactions ADD PRIMARY KEY (id);
CREATE INDEX loyalty_transactions_account ON loyalty_transactions (account_id);
CREATE INDEX loyalty_transactions_order ON loyalty_transactions (order_id);
ALTER TABLE support_tickets ADD PRIMARY KEY (id);
CREATE INDEX support_tickets_customer ON support_tickets (customer_id);
ALTER TABLE ticket_messages ADD PRIMARY KEY (id);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id);
ALTER TABLE wa_messages ADD PRIMARY KEY (id);
CREATE INDEX wa_messages_phone ON wa_messages (phone);
ALTER TABLE newsletter_subscribers ADD PRIMARY KEY (id);
CREATE INDEX newsletter_subscribers_email ON newsletter_subscribers (lower(trim(email)));
ALTER TABLE voucher_redemptions ADD PRIMARY KEY (id);
CREATE INDEX voucher_redemptions_customer ON voucher_redemptions (customer_id);
CREATE INDEX voucher_redemptions_order ON voucher_redemptions (order_id);
"""

FOREIGN_KEYS = """
ALTER TABLE customers ADD FOREIGN KEY (referred_by) REFERENCES customers (id);
ALTER TABLE customer_addresses ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE customer_devices ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE carts ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE cart_items ADD FOREIGN KEY (cart_id) REFERENCES carts (id);
ALTER TABLE cart_items ADD FOREIGN KEY (product_id) REFERENCES products (id);
ALTER TABLE wishlist_items ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE wishlist_items ADD FOREIGN KEY (product_id) REFERENCES products (id);
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE orders ADD FOREIGN KEY (address_id) REFERENCES customer_addresses (id);
ALTER TABLE order_items ADD FOREIGN KEY (order_id) REFERENCES orders (id);
ALTER TABLE order_items ADD FOREIGN KEY (product_id) REFERENCES products (id);
ALTER TABLE payments ADD FOREIGN KEY (order_id) REFERENCES orders (id);
ALTER TABLE refunds ADD FOREIGN KEY (payment_id) REFERENCES payments (id);
ALTER TABLE shipments ADD FOREIGN KEY (order_id) REFERENCES orders (id);
ALTER TABLE shipment_events ADD FOREIGN KEY (shipment_id) REFERENCES shipments (id);
ALTER TABLE reviews ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE reviews ADD FOREIGN KEY (product_id) REFERENCES products (id);
ALTER TABLE loyalty_accounts ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE loyalty_transactions ADD FOREIGN KEY (account_id) REFERENCES loyalty_accounts (id);
ALTER TABLE loyalty_transactions ADD FOREIGN KEY (order_id) REFERENCES orders (id);
ALTER TABLE support_tickets ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE ticket_messages ADD FOREIGN KEY (ticket_id) REFERENCES support_tickets (id);
ALTER TABLE voucher_redemptions ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE voucher_redemptions ADD FOREIGN KEY (order_id) REFERENCES orders (id);
"""
"""activity_logs.customer_id has no foreign key: the log table is written by another service."""

PRODUCTS = 5_000
SLOTS = 16
"""Child ids are `parent_id * SLOTS + n`: every process numbers its own rows, no sequence."""


def conninfo(url: str) -> str:
    """The libpq form of a SQLAlchemy URL."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


@dataclass(frozen=True)
class Pools:
    """Values drawn once from Faker and combined per row."""

    first_names: list[str]
    last_names: list[str]
    streets: list[str]
    cities: list[str]
    postcodes: list[str]
    stamps: list[str]
    birth_dates: list[tuple[str, int, int, int]]
    words: list[str]
    sentences: list[str]


def _clean(text: str) -> str:
    return re.sub(r"[\t\n\r\\]+", " ", text).strip()


def make_pools(seed: int) -> Pools:
    fake = Faker("id_ID")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    start = datetime(2019, 1, 1, tzinfo=UTC)
    stamps = [
        (start + timedelta(seconds=rng.randrange(7 * 365 * 86_400))).strftime(
            "%Y-%m-%d %H:%M:%S+00"
        )
        for _ in range(20_000)
    ]
    births = []
    for _ in range(5_000):
        born = datetime(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365))
        births.append((born.strftime("%Y-%m-%d"), born.day, born.month, born.year % 100))
    return Pools(
        first_names=sorted({_clean(fake.first_name()) for _ in range(3_000)}),
        last_names=sorted({_clean(fake.last_name()) for _ in range(3_000)}),
        streets=sorted({_clean(fake.street_address()) for _ in range(5_000)}),
        cities=sorted({_clean(fake.city()) for _ in range(1_000)}),
        postcodes=[f"{rng.randrange(10_000, 99_999)}" for _ in range(2_000)],
        stamps=stamps,
        birth_dates=births,
        words=sorted({_clean(fake.word()) for _ in range(2_000)}),
        sentences=[_clean(fake.sentence(nb_words=10)) for _ in range(3_000)],
    )


def customer_phone(customer_id: int) -> str:
    """The customer's mobile number, +62 form, unique for ids below 10^8."""
    prefix = MOBILE_PREFIXES[customer_id % len(MOBILE_PREFIXES)]
    return f"+62{prefix}{customer_id * PHONE_STEP % 100_000_000:08d}"


def customer_email(customer_id: int, first: str, last: str) -> str:
    local = re.sub(r"[^a-z]", "", f"{first}.{last}".lower()) or "pelanggan"
    return f"{local}{customer_id}@{('gmail.com', 'yahoo.co.id', 'outlook.com')[customer_id % 3]}"


Row = list[str]
Tables = dict[str, list[str]]


def generate_chunk(first: int, last: int, seed: int, pools: Pools) -> Tables:
    """COPY text lines per table for customers first..last-1, the same for the same seed."""
    rng = random.Random(seed * 1_000_003 + first)
    pick = rng.choice
    stamp = pools.stamps
    out: Tables = {name: [] for name in TABLES}
    (
        customers,
        addresses,
        devices,
        logs,
        carts,
        cart_items,
        wishlist,
        orders,
        items,
        payments,
        refunds,
        shipments,
        events,
        reviews,
        accounts,
        transactions,
        tickets,
        messages,
        whatsapp,
        newsletter,
        vouchers,
    ) = (out[name] for name in TABLES[1:])
    for cid in range(first, last):
        given, family = pick(pools.first_names), pick(pools.last_names)
        name = f"{given} {family}"
        phone = customer_phone(cid)
        email = customer_email(cid, given, family)
        born, day, month, year = pick(pools.birth_dates)
        woman = rng.random() < 0.5
        nik = (
            f"{pick(REGENCY_PROVINCES)}{rng.randrange(1, 30):02d}{rng.randrange(1, 40):02d}"
            f"{day + 40 * woman:02d}{month:02d}{year:02d}{rng.randrange(1, 10_000):04d}"
        )
        referrer = rng.randrange(1, cid) if cid > 1 and rng.random() < 0.1 else None
        created = pick(stamp)
        customers.append(
            f"{cid}\t{email}\t{phone}\t{nik}\t{name}\t{born}\t{'FM'[woman]}\t"
            f"{referrer if referrer else chr(92) + 'N'}\t{created}"
        )
        base = cid * SLOTS
        address_ids = []
        for n in range(2):
            aid = base + n
            address_ids.append(aid)
            addresses.append(
                f"{aid}\t{cid}\t{('Rumah', 'Kantor')[n]}\t{name}\t0{phone[3:]}\t"
                f"{pick(pools.streets)}\t{pick(pools.cities)}\t"
                f"{pick(pools.postcodes)}"
            )
            devices.append(
                f"{aid}\t{cid}\t{rng.getrandbits(64):016x}{rng.getrandbits(64):016x}"
                f"\t{('android', 'ios')[n]}\t{pick(stamp)}"
            )
        for n in range(20):
            logs.append(
                f"{cid * 32 + n}\t{cid}\t{pick(('login', 'view', 'search', 'checkout'))}"
                f"\t10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                f"\tMozilla/5.0 (Linux; Android {rng.randrange(9, 15)})\t{pick(stamp)}"
            )
        carts.append(f"{cid}\t{cid}\t{pick(stamp)}")
        for n in range(3):
            cart_items.append(
                f"{base + n}\t{cid}\t{rng.randrange(1, PRODUCTS + 1)}\t{rng.randrange(1, 4)}"
            )
            wishlist.append(f"{base + n}\t{cid}\t{rng.randrange(1, PRODUCTS + 1)}\t{pick(stamp)}")
            reviews.append(
                f"{base + n}\t{cid}\t{rng.randrange(1, PRODUCTS + 1)}\t"
                f"{rng.randrange(1, 6)}\t{pick(pools.sentences)}\t{pick(stamp)}"
            )
        accounts.append(f"{cid}\t{cid}\t{rng.randrange(5_000)}\t{pick(('silver', 'gold'))}")
        ordered = rng.randrange(3, 10)
        for n in range(ordered):
            oid = base + n
            when = pick(stamp)
            orders.append(
                f"{oid}\tINV/{cid:08d}/{n:02d}\t{cid}\t{pick(address_ids)}\t"
                f"{pick(('selesai', 'dikirim', 'dibayar'))}\t"
                f"{rng.randrange(20, 5_000) * 1000}.00\t{when}"
            )
            for k in range(rng.randrange(1, 5)):
                items.append(
                    f"{oid * 8 + k}\t{oid}\t{rng.randrange(1, PRODUCTS + 1)}\t"
                    f"{rng.randrange(1, 4)}\t{rng.randrange(5, 900) * 1000}.00"
                )
            card = rng.random() < 0.4
            payments.append(
                f"{oid}\t{oid}\t{'kartu_kredit' if card else 'transfer_bank'}\t"
                f"{f'{rng.randrange(10_000):04d}' if card else chr(92) + 'N'}\t"
                f"{name}\t{rng.randrange(20, 5_000) * 1000}.00\t{when}"
            )
            if rng.random() < 0.1:
                refunds.append(
                    f"{oid}\t{oid}\t{rng.randrange(5, 500) * 1000}.00\t"
                    f"{pick(pools.sentences)}\t{pick(stamp)}"
                )
            shipments.append(
                f"{oid}\t{oid}\t{pick(('JNE', 'J&T', 'SiCepat', 'AnterAja'))}\t"
                f"JP{oid:012d}\t{name}\t{phone}\t{pick(pools.streets)}"
            )
            for k in range(3):
                events.append(
                    f"{oid * 4 + k}\t{oid}\t{('diproses', 'dikirim', 'diterima')[k]}\t"
                    f"{pick(pools.cities)}\t{pick(stamp)}"
                )
            transactions.append(f"{oid}\t{cid}\t{oid}\t{rng.randrange(10, 500)}\t{when}")
        vouchers.append(f"{cid}\t{cid}\t{base}\tHEMAT{rng.randrange(100_000):05d}\t{pick(stamp)}")
        tickets.append(f"{cid}\t{cid}\t{pick(pools.words)}\t{pick(pools.sentences)}\t{pick(stamp)}")
        for n in range(3):
            messages.append(
                f"{base + n}\t{cid}\t{('pelanggan', 'agen')[n % 2]}\t"
                f"{pick(pools.sentences)}\t{pick(stamp)}"
            )
        for n in range(4):
            whatsapp.append(
                f"{base + n}\t{phone[1:]}\t{('masuk', 'keluar')[n % 2]}\t"
                f"{pick(pools.sentences)}\t{pick(stamp)}"
            )
        if rng.random() < 0.7:
            written = email.capitalize() if rng.random() < 0.3 else email
            newsletter.append(f"{cid}\t {written}\t{pick(('checkout', 'footer'))}\t{pick(stamp)}")
    for lines in out.values():
        rng.shuffle(lines)
    return out


def copy_lines(connection: psycopg.Connection, table: str, lines: list[str]) -> None:
    if not lines:
        return
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} FROM STDIN", writer=QueuedLibpqWriter(cursor)) as copy,
    ):
        copy.write("\n".join(lines) + "\n")


def load_range(url: str, first: int, last: int, seed: int) -> int:
    """Generate and COPY customers first..last-1 in chunks; the number of rows written."""
    pools = make_pools(seed)
    written = 0
    every = max(CHUNK, (last - first) // 10 // CHUNK * CHUNK)
    started = time.perf_counter()
    with psycopg.connect(conninfo(url)) as connection:
        connection.execute("SET synchronous_commit = off")
        for start in range(first, last, CHUNK):
            tables = generate_chunk(start, min(start + CHUNK, last), seed, pools)
            for table, lines in tables.items():
                copy_lines(connection, table, lines)
                written += len(lines)
            connection.commit()
            done = min(start + CHUNK, last) - first
            if done % every == 0 or start + CHUNK >= last:
                print(
                    f"  customers {first:,}–{last - 1:,}: {done:,} loaded, {written:,} rows, "
                    f"{time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    return written


def products(seed: int, pools: Pools) -> list[str]:
    rng = random.Random(seed)
    categories = ("es krim", "minuman", "camilan", "peralatan dapur", "pakaian", "elektronik")
    return [
        f"{n}\tSKU-{n:06d}\t{rng.choice(pools.words).capitalize()} {rng.choice(pools.words)}\t"
        f"{rng.randrange(5, 900) * 1000}.00\t{rng.choice(categories)}"
        for n in range(1, PRODUCTS + 1)
    ]


def recreate_database(url: str) -> None:
    admin_url = re.sub(r"/[^/?]+(\?|$)", r"/postgres\1", conninfo(url), count=1)
    name = conninfo(url).rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def timed(label: str, action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    elapsed = time.perf_counter() - started
    print(f"{label}: {elapsed:.1f} s", flush=True)
    return elapsed


def run_statements(url: str, script: str) -> None:
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        connection.execute("SET maintenance_work_mem = '512MB'")
        for statement in filter(None, (s.strip() for s in script.split(";"))):
            connection.execute(statement)


def _run_statement(url: str, statement: str) -> None:
    run_statements(url, statement)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2, help="processes generating and copying")
    args = parser.parse_args()
    if not 1 <= args.customers < 100_000_000:
        sys.exit("--customers must be between 1 and 99,999,999 (phone numbers stay unique).")
    url = os.environ.get("JAGADATA_BENCH_URL", DEFAULT_URL)
    started = time.perf_counter()
    recreate_database(url)
    run_statements(url, SCHEMA)
    pools = make_pools(args.seed)
    with psycopg.connect(conninfo(url)) as connection:
        copy_lines(connection, "products", products(args.seed, pools))
    print(
        f"shop database {conninfo(url).rsplit('/', 1)[1]}: {args.customers:,} customers, "
        f"seed {args.seed}, {args.jobs} processes",
        flush=True,
    )
    # Ranges start on multiples of CHUNK: each chunk is generated from the seed and its first
    # customer, so the database is the same whatever the number of processes.
    bounds = [1 + args.customers * j // args.jobs // CHUNK * CHUNK for j in range(args.jobs)]
    bounds.append(args.customers + 1)
    rows = 0

    def load() -> None:
        nonlocal rows
        with ProcessPoolExecutor(args.jobs) as pool:
            futures = [
                pool.submit(load_range, url, bounds[j], bounds[j + 1], args.seed)
                for j in range(args.jobs)
                if bounds[j] < bounds[j + 1]
            ]
            rows = sum(f.result() for f in futures) + PRODUCTS

    load_s = timed("generate + COPY", load)
    statements = [s.strip() for s in INDEXES.split(";") if s.strip()]
    keys = [s.strip() for s in FOREIGN_KEYS.split(";") if s.strip()]

    def build(batch: list[str]) -> Callable[[], None]:
        def run() -> None:
            with ProcessPoolExecutor(args.jobs) as pool:
                list(pool.map(_run_statement, [url] * len(batch), batch))

        return run

    index_s = timed("primary keys and indexes", build(statements))
    fk_s = timed("foreign keys", build(keys))
    analyse_s = timed("VACUUM ANALYZE", lambda: run_statements(url, "VACUUM ANALYZE"))
    total = time.perf_counter() - started
    with psycopg.connect(conninfo(url)) as connection:
        size = connection.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        pretty = size.fetchone()[0]  # type: ignore[index]
    print(
        f"datastore_data: {rows:,} rows ({rows / args.customers:.1f} per customer) in "
        f"{total:.0f} s (load {load_s:.0f} s, indexes {index_s:.0f} s, foreign keys "
        f"{fk_s:.0f} s, analyse {analyse_s:.0f} s), {pretty}",
        flush=True,
    )


if __name__ == "__main__":
    main()
