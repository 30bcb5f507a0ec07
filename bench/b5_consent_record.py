"""B5: recording consent events over HTTP — validated, hash-chained, durable, with the current
state and the audit entry in the same transaction — from 8 concurrent clients, against raw
INSERTs of the same rows through the same driver (target >= 0.3x the raw rate).

    .venv/bin/python bench/b5_consent_record.py [--clients 8] [--batches 10] [--size 100]
                                                [--databases sqlite,postgresql]

For each database: uvicorn (one process, loopback) serves the consent API on a scratch database
with La Gelato Academy published; each client thread POSTs `--batches` batches of `--size`
marketing consents of generated people (email identities, hashed on arrival). The lower bound
inserts the very rows the ledger then holds (every column, hashes included) into a table of the
same shape, indexes and unique constraints but no trigger, from as many threads, one
`executemany` and one commit per batch, through the same driver and connection settings.
The result verifies itself: every event answered, the chain intact, as many events and states
as were sent, the raw table as full. Prints one line per figure and writes bench/results/b5.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from _common import Prepared, line, prepare, scratch_database, server, write_results
from faker import Faker
from sqlalchemy import Engine, MetaData, func, select, text

RAW_TABLE = "bench_raw_event"


def _batches(clients: int, batches: int, size: int) -> list[list[dict[str, Any]]]:
    faker = Faker("id_ID")
    faker.seed_instance(5)
    work = []
    for client in range(clients):
        for batch in range(batches):
            work.append([
                {"kind": "given", "purpose": "marketing", "language": "id",
                 "channel": "web_form", "subject": {"kind": "email",
                 "value": f"{client}.{batch}.{n}.{faker.user_name()}@contoh.example"},
                 "evidence": {"ip": faker.ipv4_public(), "user_agent": faker.user_agent()}}
                for n in range(size)
            ])  # fmt: skip
    return work


def _run_threads(clients: int, work: Any) -> float:
    """Run `work(client)` in `clients` threads started together; the wall time in seconds."""
    errors: list[BaseException] = []
    start = threading.Barrier(clients + 1)

    def run(client: int) -> None:
        try:
            start.wait()
            work(client)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        sys.exit(f"b5: a client failed: {errors[0]!r}")
    return elapsed


def record_over_http(
    prepared: Prepared, clients: int, batches: list[list[dict[str, Any]]]
) -> float:
    per_client = len(batches) // clients
    with server("_common:consent_app", prepared.environment) as base:
        url = f"{base}/api/v1/orgs/{prepared.slug}/consent/events"
        headers = {"authorization": f"Bearer {prepared.token}"}
        with httpx.Client(timeout=60) as warm:
            warm.get(f"{base}/healthz")

        def client(number: int) -> None:
            with httpx.Client(timeout=120) as http:
                for batch in batches[number * per_client : (number + 1) * per_client]:
                    response = http.post(url, json={"events": batch}, headers=headers)
                    if response.status_code != 201 or len(response.json()["events"]) != len(batch):
                        raise RuntimeError(f"{response.status_code}: {response.text[:300]}")

        return _run_threads(clients, client)


def raw_inserts(engine: Engine, clients: int, rows: list[dict[str, Any]], size: int) -> float:
    """The same rows into a plain copy of the ledger table, one executemany per batch."""
    from jagadata.consent.models import ConsentEvent
    from jagadata.orgs.models import Organisation

    metadata = MetaData()
    Organisation.__table__.to_metadata(metadata)
    table = ConsentEvent.__table__.to_metadata(metadata, name=RAW_TABLE)
    for constraint in list(table.constraints):
        if constraint.name:
            constraint.name = str(constraint.name).replace("consent_event", RAW_TABLE)
    for index in table.indexes:
        index.name = str(index.name).replace("consent_event", RAW_TABLE)
    metadata.create_all(engine, tables=[table])
    columns = [c.name for c in table.columns if c.name != "id"]
    marks = ", ".join("?" if engine.dialect.name == "sqlite" else "%s" for _ in columns)
    statement = f"INSERT INTO {RAW_TABLE} ({', '.join(columns)}) VALUES ({marks})"
    json_columns = {"evidence"}
    values = [
        tuple(_plain(row[c], c in json_columns, engine.dialect.name) for c in columns)
        for row in rows
    ]
    chunks = [values[i : i + size] for i in range(0, len(values), size)]
    per_client = len(chunks) // clients
    connections = [engine.raw_connection() for _ in range(clients)]

    def client(number: int) -> None:
        connection = connections[number]
        for chunk in chunks[number * per_client : (number + 1) * per_client]:
            cursor = connection.cursor()
            cursor.executemany(statement, chunk)
            cursor.close()
            connection.commit()

    try:
        return _run_threads(clients, client)
    finally:
        for connection in connections:
            connection.close()


def _plain(value: Any, is_json: bool, dialect: str) -> Any:
    import json
    from datetime import datetime

    if is_json:
        return json.dumps(value)
    if isinstance(value, datetime) and dialect == "sqlite":
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def measure(prepared: Prepared, clients: int, batches: int, size: int) -> dict[str, Any]:
    from jagadata.consent.ledger import EVENT_COLUMNS, verify_ledger
    from jagadata.consent.models import ConsentEvent, ConsentState
    from jagadata.db import make_engine, session_factory

    work = _batches(clients, batches, size)
    sent = sum(len(batch) for batch in work)
    http_seconds = record_over_http(prepared, clients, work)
    engine = make_engine(prepared.database_url)
    with session_factory(engine)() as session:
        session.info["all_organisations"] = True
        result = verify_ledger(session=session, organisation_id=prepared.organisation_id)
        states = session.scalar(select(func.count()).select_from(ConsentState))
        rows = [
            dict(row._mapping)
            for row in session.execute(
                select(*[getattr(ConsentEvent, name) for name in EVENT_COLUMNS]).order_by(
                    ConsentEvent.sequence
                )
            )
        ]
    if not result.ok or result.checked != sent or states != sent or len(rows) != sent:
        sys.exit(f"b5: wrong ledger: {result}, {states} states, {len(rows)} rows, {sent} sent")
    raw_seconds = raw_inserts(engine, clients, rows, size)
    with engine.connect() as connection:
        inserted = connection.execute(text(f"SELECT count(*) FROM {RAW_TABLE}")).scalar_one()
    engine.dispose()
    if inserted != sent:
        sys.exit(f"b5: the raw table holds {inserted} rows, not {sent}")
    recorded_rate, raw_rate = sent / http_seconds, sent / raw_seconds
    return {
        "events": sent,
        "clients": clients,
        "batch_size": size,
        "http": {"seconds": round(http_seconds, 3), "events_per_s": round(recorded_rate, 1),
                 "requests_per_s": round(len(work) / http_seconds, 1)},
        "raw_inserts": {"seconds": round(raw_seconds, 3), "events_per_s": round(raw_rate, 1)},
        "ratio": round(recorded_rate / raw_rate, 3),
        "chain_verified": result.checked,
        "states": states,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    results: dict[str, Any] = {"benchmark": "b5_consent_record", "target_ratio": 0.3}
    for kind in args.databases.split(","):
        with scratch_database(kind) as url, tempfile.TemporaryDirectory() as data:
            result = measure(prepare(url, Path(data)), args.clients, args.batches, args.size)
        results[kind] = result
        print(line(f"b5_record_{kind}", result["http"]["events_per_s"], "events/s",
                   result["ratio"], "raw_inserts"))  # fmt: skip
        print(line(f"b5_raw_inserts_{kind}", result["raw_inserts"]["events_per_s"], "events/s",
                   1.0, "raw_inserts"))  # fmt: skip
        sys.stdout.flush()
    write_results("b5", results)


if __name__ == "__main__":
    main()
