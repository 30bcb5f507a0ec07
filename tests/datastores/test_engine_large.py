"""A person with more rows than one round trip reads (PROBE): the engine switches to a
streaming cursor for that query, hands the rows on in batches, and finds and erases every one
of them — on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from faker import Faker

from jagadata.datastores.engine import Operation, access, compile_plan, connect, erase
from jagadata.datastores.results import Person
from jagadata.datastores.sql import PROBE
from jagadata.manifest.mapping import Datastore

MAPPING: dict[str, Any] = {
    "connection": {"env": "LOG_DB_URL"},
    "batch_size": 500,
    "tables": [
        {
            "name": "members",
            "key": ["id"],
            "identities": [{"column": "email", "kind": "email", "stored": "lower"}],
        },
        {
            "name": "page_views",
            "key": ["id"],
            "columns": [{"name": "path", "category": "activity"}],
            "references": [{"columns": ["member_id"], "table": "members"}],
        },
    ],
}
MANY = PROBE + 1_500


def _fill(url: str) -> str:
    fake = Faker("id_ID")
    fake.seed_instance(41)
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    members = sa.Table(
        "members",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(120), nullable=False),
    )
    views = sa.Table(
        "page_views",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("path", sa.String(80)),
    )
    metadata.create_all(engine)
    email = fake.unique.email().lower()
    with engine.begin() as c:
        c.execute(members.insert(), [{"id": 1, "email": email}, {"id": 2, "email": fake.email()}])
        c.execute(
            views.insert(),
            [
                {"id": i, "member_id": 1 if i <= MANY else 2, "path": f"/kelas/{i}"}
                for i in range(1, MANY + 11)
            ],
        )
    engine.dispose()
    return email


def test_a_person_with_more_rows_than_one_round_trip_reads_is_found_and_erased_whole(
    target_url: str,
) -> None:
    email = _fill(target_url)
    datastore = Datastore.model_validate(MAPPING)
    people = [Person.of(email=email.upper())]
    plan = compile_plan(datastore, Operation.ACCESS, people, system="web")
    with connect(target_url) as conn:
        batches = [b for b in access(conn, plan) if b.table.name == "page_views"]
        assert sum(len(b.rows) for b in batches) == MANY
        assert max(len(b.rows) for b in batches) <= datastore.batch_size
        ids = {row[0] for b in batches for row in b.rows}
        assert ids == set(range(1, MANY + 1))
        report = erase(
            conn, compile_plan(datastore, Operation.ERASE, people, system="web"), key=b"k" * 32
        )
    assert report.table("page_views").counts["deleted"] == MANY
    engine = sa.create_engine(target_url)
    with engine.connect() as c:
        left = c.exec_driver_sql("SELECT member_id, count(*) FROM page_views GROUP BY member_id")
        assert [tuple(r) for r in left] == [(2, 10)]
    engine.dispose()
