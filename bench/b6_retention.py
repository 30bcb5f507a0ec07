"""B6: a retention sweep anonymising millions of expired rows, against one raw UPDATE.

    .venv/bin/python bench/b6_retention.py [--rows 10000000] [--batch 10000]

In a database `jagadata_bench_b6` on the local PostgreSQL (JAGADATA_BENCH_POSTGRES_URL; created,
then dropped), two identical tables of closed accounts are made with `generate_series`: `--rows`
accounts closed in 2015-2019 (past `account_closed + 5y`) and a tenth as many more that are
still open (closed_at NULL) or closed in 2025 — names and emails from a pool of Faker id_ID
people (seeded), phones +62.

- The lower bound: one `UPDATE accounts_raw SET full_name = '[dihapus]', email = NULL,
  phone = NULL WHERE closed_at < threshold`, in one transaction. It holds its row locks on
  every expired row until it commits.
- jagadata: `run_retention` on the same rows of `accounts`, the whole product path — an
  organisation with a published manifest in a SQLite jagadata database, the datastore mapped
  with `retention: {rule: accounts, since: closed_at}` and the same masks (fixed, null, null),
  batches of `--batch` keys each in its own transaction, progress committed after each.

The longest batch — from one committed batch to the next, so every statement of a batch and
its commit — bounds the time any of the sweep's statements holds a lock. The benchmark then
checks that both tables are identical row for row (every expired row masked, every other row
untouched). Prints one line per figure and writes bench/results/b6.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from faker import Faker
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import POSTGRES_URL, ROOT

RESULTS = Path(__file__).resolve().parent / "results" / "b6.json"
DATABASE = "jagadata_bench_b6"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
THRESHOLD = "2021-11-01"  # NOW - 5 years
POOL = 1000
SEED = 606

TABLE = """
CREATE TABLE {name} (
    id bigint PRIMARY KEY,
    full_name varchar(100) NOT NULL,
    email varchar(254),
    phone varchar(20),
    closed_at timestamp
)
"""
FILL = """
INSERT INTO {name}
SELECT i,
       (%(names)s::text[])[1 + i %% {pool}],
       (%(emails)s::text[])[1 + i %% {pool}],
       '+628' || lpad((i %% 1000000000)::text, 10, '1'),
       CASE WHEN i <= %(expired)s
            THEN timestamp '2015-01-01' + (i %% 1826) * interval '1 day'
            WHEN i %% 2 = 0 THEN NULL
            ELSE timestamp '2025-01-01' + (i %% 300) * interval '1 day' END
FROM generate_series(1, %(total)s) AS i
"""
RAW_UPDATE = (
    "UPDATE accounts_raw SET full_name = '[dihapus]', email = NULL, phone = NULL "
    f"WHERE closed_at < timestamp '{THRESHOLD}'"
)
MAPPING: dict[str, Any] = {
    "connection": {"env": "B6_DATABASE_URL"},
    "tables": [
        {
            "name": "accounts",
            "key": ["id"],
            "columns": [
                {"name": "full_name", "category": "account", "mask": "fixed", "value": "[dihapus]"},
                {"name": "email", "category": "account", "mask": "null"},
                {"name": "phone", "category": "account", "mask": "null"},
            ],
            "retention": {"rule": "accounts", "since": "closed_at"},
        }
    ],
}
RULE = {
    "id": "accounts",
    "name": "Akun yang ditutup",
    "categories": ["account"],
    "period": "account_closed + 5y",
    "action": "anonymise",
}


def _people() -> tuple[list[str], list[str]]:
    faker = Faker("id_ID")
    faker.seed_instance(SEED)
    return [faker.name()[:100] for _ in range(POOL)], [faker.email() for _ in range(POOL)]


def _database(admin: Engine) -> str:
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    return make_url(POSTGRES_URL).set(database=DATABASE).render_as_string(hide_password=False)


def _fill(url: str, rows: int) -> None:
    names, emails = _people()
    total = rows + rows // 10
    engine = create_engine(url)
    with engine.begin() as connection:
        for name in ("accounts", "accounts_raw"):
            connection.exec_driver_sql(TABLE.format(name=name))
            connection.exec_driver_sql(
                FILL.format(name=name, pool=POOL),
                {"names": names, "emails": emails, "expired": rows, "total": total},
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE accounts")
        connection.exec_driver_sql("VACUUM ANALYZE accounts_raw")
    engine.dispose()


def _raw(url: str) -> tuple[float, int]:
    engine = create_engine(url)
    with engine.begin() as connection:
        started = time.perf_counter()
        changed = connection.exec_driver_sql(RAW_UPDATE).rowcount
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, changed


def _sweep(url: str, batch: int, folder: Path) -> tuple[float, int, list[float]]:
    os.environ["JAGADATA_DATA_DIR"] = str(folder)
    os.environ["JAGADATA_DATABASE_URL"] = f"sqlite:///{folder / 'jagadata.sqlite3'}"
    os.environ["B6_DATABASE_URL"] = url
    from jagadata.cli.db import migrated_engine
    from jagadata.db import session_factory
    from jagadata.db.tenancy import scope
    from jagadata.manifest import load_manifest_text
    from jagadata.orgs import service as orgs
    from jagadata.retention.run import run_retention

    document = yaml.safe_load((ROOT / "examples" / "millealab.yaml").read_text(encoding="utf-8"))
    document["retention"] = [RULE]
    for system in document["systems"]:
        if system["id"] == "platform_db":
            system["datastore"] = {**MAPPING, "batch_size": batch}
    loaded = load_manifest_text(yaml.safe_dump(document, allow_unicode=True), file="b6.yaml")
    batches: list[float] = []
    with migrated_engine("en") as engine, session_factory(engine)() as session:
        organisation = orgs.add_organisation(session=session, loaded=loaded).organisation
        scope(session, organisation.id)
        session.commit()
        last = time.perf_counter()

        def timed(_sweep: Any, _seen: int) -> None:
            nonlocal last
            moment = time.perf_counter()
            batches.append(moment - last)
            last = moment

        started = time.perf_counter()
        run = run_retention(session, organisation, loaded.manifest, now=NOW, on_batch=timed)
        elapsed = time.perf_counter() - started
        report = run.report or {}
        if run.error:
            raise SystemExit(f"the sweep failed: {run.error}")
        done = sum(t["done"] for t in report["tables"])
    return elapsed, done, batches


def _verify(url: str, rows: int) -> None:
    engine = create_engine(url)
    with engine.connect() as connection:
        different = connection.exec_driver_sql(
            "SELECT count(*) FROM accounts a JOIN accounts_raw b USING (id) WHERE "
            "(a.full_name, a.email, a.phone, a.closed_at) IS DISTINCT FROM "
            "(b.full_name, b.email, b.phone, b.closed_at)"
        ).scalar_one()
        masked = connection.exec_driver_sql(
            "SELECT count(*) FROM accounts WHERE full_name = '[dihapus]' AND email IS NULL "
            "AND phone IS NULL"
        ).scalar_one()
        kept = connection.exec_driver_sql(
            "SELECT count(*) FROM accounts WHERE full_name <> '[dihapus]' AND email IS NOT NULL"
        ).scalar_one()
    engine.dispose()
    if different or masked != rows or kept != rows // 10:
        raise SystemExit(
            f"wrong result: {different} rows differ from the raw UPDATE, {masked} masked "
            f"(expected {rows}), {kept} untouched (expected {rows // 10})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    url = _database(admin)
    try:
        started = time.perf_counter()
        _fill(url, args.rows)
        filled = time.perf_counter() - started
        print(f"filled 2 x {args.rows + args.rows // 10:,} rows in {filled:.0f} s")
        raw_seconds, raw_rows = _raw(url)
        with tempfile.TemporaryDirectory() as folder:
            sweep_seconds, swept, batches = _sweep(url, args.batch, Path(folder))
        if raw_rows != args.rows or swept != args.rows:
            raise SystemExit(f"expected {args.rows} rows, raw {raw_rows}, sweep {swept}")
        _verify(url, args.rows)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        admin.dispose()
    raw_rate, sweep_rate = raw_rows / raw_seconds, swept / sweep_seconds
    longest = max(batches)
    ratio = sweep_rate / raw_rate
    print(f"raw UPDATE: {raw_rate:,.0f} rows/s ({raw_seconds:.1f} s in one statement)")
    print(f"retention sweep: {sweep_rate:,.0f} rows/s (ratio {ratio:.2f}x vs the raw UPDATE)")
    print(f"longest batch (its statements and commit): {longest * 1000:.0f} ms of {len(batches)}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "b6_retention",
                "rows": args.rows,
                "batch": args.batch,
                "raw_seconds": raw_seconds,
                "raw_rows_per_second": raw_rate,
                "sweep_seconds": sweep_seconds,
                "sweep_rows_per_second": sweep_rate,
                "ratio": ratio,
                "longest_batch_seconds": longest,
                "batches": len(batches),
                "machine": platform.platform(),
                "python": platform.python_version(),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
