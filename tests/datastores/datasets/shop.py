"""An Indonesian online shop's database, and the oracle of what belongs to whom in it.

Customers typed their email in any case and their phone as +62…, 62… or 0…; orders copy the
shipping name and phone (denormalised) and a foreign key RESTRICT keeps a customer who has
orders; order items have a composite key; shipments point at an order by its number (a unique
column, not the key); payments are kept ten years for tax (a hold);
WhatsApp messages are tied to a customer only by the phone number (no foreign key); loyalty
points have a text key and a customer_id with no constraint; a customer may have been
referred by another (a self-reference that erasure unlinks, never follows).

The oracle reads a snapshot in plain Python, without the engine: it normalises the stored
emails and phones itself and walks the tables by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from database_state import Erasure, Key, Row, Snapshot, fill, national_phone, plain_email
from fake_people import mixed_case, mobile, seeded, spaced, written
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from jagadata.datastores.results import Person
from jagadata.manifest.mapping import Datastore

SEED = 2027
MAPPING = Path(__file__).with_name("shop.yaml")

metadata = MetaData()
products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("price", Integer, nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("full_name", String(100), nullable=False),
    Column("email", String(254), nullable=False, unique=True),
    Column("phone", String(20)),
    Column("birth_date", Date),
    Column("referred_by", Integer, ForeignKey("customers.id")),
    Column("restricted", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
addresses = Table(
    "addresses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("recipient_name", String(100), nullable=False),
    Column("street", String(200), nullable=False),
    Column("city", String(100), nullable=False),
    Column("postal_code", String(10)),
    Column("phone", String(20)),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_no", String(30), nullable=False, unique=True),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="RESTRICT"), nullable=False),
    Column("ordered_at", DateTime, nullable=False),
    Column("shipping_name", String(100), nullable=False),
    Column("shipping_phone", String(20), nullable=False),
    Column("shipping_address", Text, nullable=False),
    Column("total", Integer, nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
order_items = Table(
    "order_items",
    metadata,
    Column("order_id", Integer, ForeignKey("orders.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True, autoincrement=False),
    Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Integer, nullable=False),
    Column("gift_message", Text),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("amount", Integer, nullable=False),
    Column("method", String(20), nullable=False),
    Column("payer_name", String(100), nullable=False),
    Column("payer_account", String(30)),
    Column("paid_at", DateTime, nullable=False),
    Column("restricted", Boolean, nullable=False, default=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
shipments = Table(
    "shipments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("order_no", String(30), ForeignKey("orders.order_no"), nullable=False),
    Column("courier", String(20), nullable=False),
    Column("tracking_no", String(30), nullable=False),
    Column("recipient_phone", String(20)),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
whatsapp_messages = Table(
    "whatsapp_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("phone", String(20), nullable=False),
    Column("direction", String(3), nullable=False),
    Column("body", Text, nullable=False),
    Column("sent_at", DateTime, nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
loyalty_points = Table(
    "loyalty_points",
    metadata,
    Column("code", String(12), primary_key=True),
    Column("customer_id", Integer, nullable=False),
    Column("points", Integer, nullable=False),
    Column("earned_at", Date, nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
RICH, REFERRER, REFERS_RICH, PLAIN = 5, 2, 3, 4
"""Customer ids with a role: the one with rows in every table; one without orders who
referred two others; the one who referred the rich one; one with a customer row only."""
REFERRED_BY_REFERRER = (7, 9)
REFERRED_BY_RICH = 12
BUYER = 1
"""Another customer with a paid order: with the rich one, two customers kept masked."""
LOOKALIKE = 30
"""A customer whose email ends with the rich customer's whole address."""
CUSTOMERS = 30
OPENED, TODAY = datetime(2023, 1, 1), datetime(2026, 6, 30)
"""The shop's life so far: every date in it falls in between, whenever the tests run."""


@dataclass(frozen=True)
class Shop:
    rows: dict[str, list[Row]]
    people: dict[str, Person]
    """Requests naming the people with a role, typed unlike the stored values."""


def mapping() -> Datastore:
    return Datastore.model_validate(yaml.safe_load(MAPPING.read_text(encoding="utf-8")))


def _moment(faker: Any) -> datetime:
    moment: datetime = faker.date_time_between(start_date=OPENED, end_date=TODAY)
    return moment.replace(microsecond=0)


def generate() -> Shop:
    """The shop's rows, the same on every run (seeded Faker id_ID)."""
    faker = seeded(SEED)
    rng = faker.random
    rows: dict[str, list[Row]] = {t.name: [] for t in metadata.sorted_tables}
    rows["products"] = [
        {"id": n, "name": faker.catch_phrase()[:100], "price": rng.randint(10, 500) * 1000}
        for n in range(1, 9)
    ]
    nationals: dict[int, str] = {}
    referred = {REFERRER: None, RICH: REFERS_RICH, REFERRED_BY_RICH: RICH}
    referred |= dict.fromkeys(REFERRED_BY_REFERRER, REFERRER)
    forms = {RICH: "e164", REFERRER: "digits", PLAIN: "national"}
    for cid in range(1, CUSTOMERS + 1):
        nationals[cid] = mobile(rng)
        email = faker.unique.email()
        stored_email = mixed_case(email, rng)
        if cid == RICH:
            stored_email = stored_email[0].upper() + stored_email[1:] + " "
        form = forms.get(cid, rng.choice(("e164", "digits", "national")))
        phone: str | None = written(nationals[cid], form)
        if cid == 17:
            phone = None
        rows["customers"].append(
            {
                "id": cid,
                "full_name": faker.name(),
                "email": stored_email,
                "phone": phone,
                "birth_date": faker.date_between(date(1955, 1, 1), date(2006, 12, 31)),
                "referred_by": referred.get(cid),
                "restricted": False,
                "created_at": _moment(faker),
            }
        )
    people_rows = {r["id"]: r for r in rows["customers"]}
    # Not the rich customer: an address that merely ends like theirs, a number one digit longer.
    people_rows[LOOKALIKE]["email"] = "n" + plain_email(people_rows[RICH]["email"])
    _addresses(faker, rows, people_rows, nationals)
    _orders(faker, rows, people_rows, nationals)
    _messages(faker, rows, nationals)
    _loyalty(faker, rows)
    unknown = mobile(rng)
    rows["whatsapp_messages"] += [
        _message(faker, len(rows["whatsapp_messages"]) + n, written(unknown, form))
        for n, form in enumerate(("digits", "e164"), start=1)
    ]
    rows["whatsapp_messages"].append(
        _message(faker, len(rows["whatsapp_messages"]) + 1, written(nationals[RICH], "e164") + "9")
    )
    rich, referrer, buyer = (people_rows[c] for c in (RICH, REFERRER, BUYER))
    people = {
        "rich": Person.of(
            email=plain_email(rich["email"]).upper(), phone=spaced(nationals[RICH], country=False)
        ),
        "referrer": Person.of(email=" " + plain_email(referrer["email"]).upper()),
        "plain": Person.of(phone=spaced(nationals[PLAIN], country=True)),
        "messages_only": Person.of(phone=spaced(unknown, country=False)),
        "buyer": Person.of(email=buyer["email"].swapcase()),
    }
    return Shop(rows=rows, people=people)


def _addresses(
    faker: Any, rows: dict[str, list[Row]], people: dict[int, Row], nationals: dict[int, str]
) -> None:
    rng = faker.random
    for cid, person in people.items():
        count = {RICH: 2, REFERRER: 1, PLAIN: 0}.get(cid, rng.randint(0, 2))
        for n in range(count):
            rows["addresses"].append(
                {
                    "id": len(rows["addresses"]) + 1,
                    "customer_id": cid,
                    "recipient_name": person["full_name"] if n == 0 else faker.name(),
                    "street": faker.street_address(),
                    "city": faker.city(),
                    "postal_code": faker.postcode() if n == 0 else None,
                    "phone": written(nationals[cid], "national"),
                }
            )


def _orders(
    faker: Any, rows: dict[str, list[Row]], people: dict[int, Row], nationals: dict[int, str]
) -> None:
    """The rich customer has two paid orders (one paid in two parts) and one unpaid; others
    have up to two orders, most paid; the referrer, the first they referred and the plain
    customer none."""
    rng = faker.random
    for cid, person in people.items():
        if cid in (REFERRER, PLAIN, REFERRED_BY_REFERRER[0]):
            continue
        plans = {RICH: [1, 2, 0], BUYER: [1]}.get(cid) or [
            int(rng.random() < 0.7) for _ in range(rng.randint(0, 2))
        ]
        for paid in plans:
            oid = len(rows["orders"]) + 1
            gift = cid == RICH and paid == 0
            items = _items(faker, rows, oid, gift=gift)
            total = sum(i["quantity"] * i["unit_price"] for i in items)
            rows["orders"].append(
                {
                    "id": oid,
                    "order_no": f"INV/2025/{oid:05d}",
                    "customer_id": cid,
                    "ordered_at": _moment(faker),
                    "shipping_name": faker.name() if gift else person["full_name"],
                    "shipping_phone": written(nationals[cid], rng.choice(("e164", "national"))),
                    "shipping_address": faker.address(),
                    "total": total,
                }
            )
            if cid == RICH or rng.random() < 0.6:
                rows["shipments"].append(
                    {
                        "id": len(rows["shipments"]) + 1,
                        "order_no": f"INV/2025/{oid:05d}",
                        "courier": rng.choice(("JNE", "J&T", "SiCepat", "AnterAja")),
                        "tracking_no": f"JP{rng.randint(10**9, 10**10 - 1)}",
                        "recipient_phone": written(nationals[cid], "national"),
                    }
                )
            for part in range(paid):
                rows["payments"].append(
                    {
                        "id": len(rows["payments"]) + 1,
                        "order_id": oid,
                        "amount": total // paid + (total % paid if part == 0 else 0),
                        "method": rng.choice(("transfer", "qris", "ewallet")),
                        "payer_name": person["full_name"],
                        "payer_account": faker.bban() if part == 0 else None,
                        "paid_at": _moment(faker),
                        "restricted": False,
                    }
                )


def _items(faker: Any, rows: dict[str, list[Row]], oid: int, *, gift: bool) -> list[Row]:
    rng = faker.random
    items = [
        {
            "order_id": oid,
            "line_no": line,
            "product_id": rng.randint(1, 8),
            "quantity": rng.randint(1, 4),
            "unit_price": rng.randint(10, 500) * 1000,
            "gift_message": faker.sentence() if gift and line == 1 else None,
        }
        for line in range(1, rng.randint(1, 3) + 1)
    ]
    rows["order_items"] += items
    return items


def _message(faker: Any, mid: int, phone: str) -> Row:
    return {
        "id": mid,
        "phone": phone,
        "direction": faker.random.choice(("in", "out")),
        "body": faker.sentence(),
        "sent_at": _moment(faker),
    }


def _messages(faker: Any, rows: dict[str, list[Row]], nationals: dict[int, str]) -> None:
    """The rich customer wrote from the same number stored three ways; others now and then."""
    rng = faker.random
    for cid, national in nationals.items():
        if cid == RICH:
            forms = ["digits", "national", "e164"]
        elif cid in (REFERRER, PLAIN):
            forms = []
        else:
            forms = [rng.choice(("e164", "digits", "national")) for _ in range(rng.randint(0, 2))]
        for form in forms:
            rows["whatsapp_messages"].append(
                _message(faker, len(rows["whatsapp_messages"]) + 1, written(national, form))
            )


def _loyalty(faker: Any, rows: dict[str, list[Row]]) -> None:
    rng = faker.random
    for cid in range(1, CUSTOMERS + 1):
        count = {RICH: 2, REFERRER: 1, PLAIN: 0}.get(cid, rng.randint(0, 1))
        for _ in range(count):
            rows["loyalty_points"].append(
                {
                    "code": f"LP-{123 + len(rows['loyalty_points']):06d}",
                    "customer_id": cid,
                    "points": rng.randint(10, 900),
                    "earned_at": faker.date_between(OPENED.date(), TODAY.date()),
                }
            )


def create(url: str) -> None:
    """Build the shop's schema on `url` and fill it."""
    fill(url, metadata, generate().rows)


def _identities(people: Iterable[Person]) -> tuple[set[str], set[str]]:
    emails = {plain_email(v) for p in people for v in p.identities.get("email", ())}
    phones = {national_phone(v) for p in people for v in p.identities.get("phone", ())}
    return emails, phones


def person_rows(state: Snapshot, people: Iterable[Person]) -> dict[str, set[Key]]:
    """The keys of every row that belongs to the people, per mapped table."""
    emails, phones = _identities(list(people))

    def matches(email: str | None, phone: str | None) -> bool:
        return bool(email and plain_email(email) in emails) or bool(
            phone and national_phone(phone) in phones
        )

    found_customers = {k for k, r in state["customers"].items() if matches(r["email"], r["phone"])}
    ids = {k[0] for k in found_customers}
    found_orders = {k for k, r in state["orders"].items() if r["customer_id"] in ids}
    order_ids = {k[0] for k in found_orders}
    order_nos = {state["orders"][k]["order_no"] for k in found_orders}
    return {
        "customers": found_customers,
        "addresses": {k for k, r in state["addresses"].items() if r["customer_id"] in ids},
        "orders": found_orders,
        "order_items": {k for k, r in state["order_items"].items() if r["order_id"] in order_ids},
        "shipments": {k for k, r in state["shipments"].items() if r["order_no"] in order_nos},
        "payments": {k for k, r in state["payments"].items() if r["order_id"] in order_ids},
        "whatsapp_messages": {
            k for k, r in state["whatsapp_messages"].items() if matches(None, r["phone"])
        },
        "loyalty_points": {
            k for k, r in state["loyalty_points"].items() if r["customer_id"] in ids
        },
    }


def expected_erasure(state: Snapshot, people: Iterable[Person]) -> Erasure:
    """Payments are held (masked, restricted); an order a payment points at stays masked,
    and so does a customer an order points at (RESTRICT); everything else of theirs goes,
    and customers they referred are unlinked, not erased."""
    found = person_rows(state, people)
    paid = {r["order_id"] for r in state["payments"].values()}
    kept_orders = {k for k in found["orders"] if k[0] in paid}
    ordering = {state["orders"][k]["customer_id"] for k in kept_orders}
    kept_customers = {k for k in found["customers"] if k[0] in ordering}
    gone_customers = found["customers"] - kept_customers
    gone_ids = {k[0] for k in gone_customers}
    unlinked: dict[Key, tuple[str, ...]] = {
        k: ("referred_by",)
        for k, r in state["customers"].items()
        if k not in gone_customers and r["referred_by"] in gone_ids
    }
    return Erasure(
        found=found,
        deleted={
            "customers": gone_customers,
            "addresses": found["addresses"],
            "orders": found["orders"] - kept_orders,
            "order_items": found["order_items"],
            "shipments": found["shipments"],
            "whatsapp_messages": found["whatsapp_messages"],
            "loyalty_points": found["loyalty_points"],
        },
        masked={
            "customers": kept_customers,
            "orders": kept_orders,
            "payments": found["payments"],
        },
        unlinked={"customers": unlinked},
    )
