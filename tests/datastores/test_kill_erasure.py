"""`kill -9` in the middle of an erasure: the organisation's database holds either the whole
erasure or none of it, and running the erasure again ends in exactly the state an
uninterrupted run leaves — on SQLite, PostgreSQL and MariaDB.

The worker is a separate process erasing one person with thousands of rows in small batches;
the test waits until that process has written inside its open transaction (SQLite's rollback
journal exists, PostgreSQL's backend holds a transaction id, InnoDB counts modified rows) and
kills it there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from faker import Faker
from sqlalchemy.engine import make_url

from jagadata.datastores.engine import Operation, compile_plan, connect, erase
from jagadata.datastores.results import Person
from jagadata.manifest.mapping import Datastore
from scratch_databases import ENGINES, scratch_target

WORKER = Path(__file__).with_name("erase_worker.py")
KEY = bytes(range(32))  # the worker's key: pseudonyms must match between the two runs
ORDERS, ITEMS_PER_ORDER = 80, 60

MAPPING: dict[str, Any] = {
    "connection": {"env": "SHOP_DB_URL"},
    "batch_size": 25,
    "tables": [
        {
            "name": "customers",
            "key": ["id"],
            "identities": [{"column": "email", "kind": "email", "stored": "lower"}],
            "columns": [{"name": "full_name", "category": "identity", "mask": "pseudonym"}],
        },
        {
            "name": "orders",
            "key": ["id"],
            "columns": [{"name": "ship_to", "category": "contact", "mask": "pseudonym"}],
            "references": [{"columns": ["customer_id"], "table": "customers"}],
        },
        {
            "name": "items",
            "key": ["id"],
            "references": [{"columns": ["order_id"], "table": "orders"}],
        },
        {
            "name": "payments",
            "key": ["id"],
            "columns": [{"name": "payer", "category": "identity", "mask": "pseudonym"}],
            "references": [{"columns": ["order_id"], "table": "orders"}],
            "hold": {"reason": "Bukti bayar 10 tahun", "legal_source": "UU KUP Pasal 28(11)"},
        },
    ],
}


def _fill(url: str, seed: int) -> str:
    """Two customers; the first has many orders and items, payments on every third order."""
    fake = Faker("id_ID")
    fake.seed_instance(seed)
    target = sa.create_engine(url)
    metadata = sa.MetaData()
    customers = sa.Table(
        "customers",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(120), nullable=False),
        sa.Column("full_name", sa.String(120)),
    )
    orders = sa.Table(
        "orders",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("ship_to", sa.String(200)),
    )
    items = sa.Table(
        "items",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("product", sa.String(80)),
    )
    payments = sa.Table(
        "payments",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("payer", sa.String(120)),
    )
    metadata.create_all(target)
    emails = [fake.unique.email().lower() for _ in range(2)]
    item_id = 0
    with target.begin() as c:
        c.execute(
            customers.insert(),
            [{"id": i + 1, "email": e, "full_name": fake.name()} for i, e in enumerate(emails)],
        )
        order_rows, item_rows, payment_rows = [], [], []
        for order_id in range(1, ORDERS * 2 + 1):
            owner = 1 if order_id <= ORDERS else 2
            order_rows.append({"id": order_id, "customer_id": owner, "ship_to": fake.address()})
            for _ in range(ITEMS_PER_ORDER):
                item_id += 1
                item_rows.append({"id": item_id, "order_id": order_id, "product": fake.word()})
            if order_id % 3 == 0:
                payment_rows.append({"id": order_id, "order_id": order_id, "payer": fake.name()})
        c.execute(orders.insert(), order_rows)
        c.execute(items.insert(), item_rows)
        c.execute(payments.insert(), payment_rows)
    target.dispose()
    return emails[0]


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    target = sa.create_engine(url)
    with target.connect() as c:
        state = {
            t: sorted(tuple(r) for r in c.exec_driver_sql(f"SELECT * FROM {t}"))
            for t in ("customers", "orders", "items", "payments")
        }
    target.dispose()
    return state


class _Watcher:
    """Tells, as fast as it can ask, whether the worker has changed rows inside its
    still-open transaction: SQLite's rollback journal has content; a PostgreSQL backend holds
    a transaction id; on MariaDB the customer's row (masked before anything is deleted) is
    locked by a writer (its INFORMATION_SCHEMA tables are refreshed too rarely to ask)."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        path = Path(make_url(url).database or "")
        self.journal = path.with_name(path.name + "-journal")
        self.engine = None if kind == "sqlite" else sa.create_engine(url)
        self.connection = self.engine.connect() if self.engine else None

    def writing(self) -> bool:
        if self.connection is None:
            return self.journal.exists() and self.journal.stat().st_size > 0
        if self.kind == "postgresql":
            found = self.connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
                )
            ).scalar()
            self.connection.rollback()
            return bool(found)
        try:
            self.connection.exec_driver_sql(
                "SELECT id FROM customers WHERE id = 1 FOR UPDATE NOWAIT"
            )
        except sa.exc.OperationalError:
            return True
        finally:
            self.connection.rollback()
        return False

    def close(self) -> None:
        if self.connection is not None and self.engine is not None:
            self.connection.close()
            self.engine.dispose()


def _kill_mid_erasure(kind: str, url: str, mapping: Path, email: str) -> None:
    log = mapping.with_name("worker.log")
    watcher = _Watcher(kind, url)
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, str(WORKER), url, str(mapping), email],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while not watcher.writing():
                assert worker.poll() is None, (
                    "the worker finished before it could be killed mid-erasure: " + log.read_text()
                )
                assert time.monotonic() < deadline, "the worker never started writing"
                time.sleep(0.001)
            os.kill(worker.pid, signal.SIGKILL)
        finally:
            worker.wait(timeout=30)
            watcher.close()
    assert worker.returncode == -signal.SIGKILL


@pytest.mark.parametrize("kind", ENGINES)
def test_killed_erasure_resumes_to_the_state_of_an_uninterrupted_one(
    kind: str, tmp_path: Path
) -> None:
    mapping_path = tmp_path / "mapping.yaml"
    mapping_path.write_text(yaml.safe_dump(MAPPING))
    datastore = Datastore.model_validate(MAPPING)
    with (
        scratch_target(kind, tmp_path / "a") as killed_url,
        scratch_target(kind, tmp_path / "b") as clean_url,
    ):
        email = _fill(killed_url, seed=77)
        assert _fill(clean_url, seed=77) == email
        before = _snapshot(killed_url)
        plan = compile_plan(datastore, Operation.ERASE, [Person.of(email=email)], system="shop")
        with connect(clean_url) as conn:
            uninterrupted = erase(conn, plan, key=KEY)

        _kill_mid_erasure(kind, killed_url, mapping_path, email)

        assert _snapshot(killed_url) == before  # nothing half-applied
        with connect(killed_url) as conn:
            resumed = erase(conn, plan, key=KEY)
        assert resumed.as_dict() == uninterrupted.as_dict()
        assert _snapshot(killed_url) == _snapshot(clean_url)
        with connect(killed_url) as conn:
            again = erase(conn, plan, key=KEY)
        assert all(t.found == 0 and not t.counts for t in again.tables)
        items = _snapshot(clean_url)["items"]
        assert len(items) == ORDERS * ITEMS_PER_ORDER  # only the other customer's items remain
