"""Exports for an auditor: CSV to read and JSON lines to re-verify, in chain order, filtered by
time, with no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.export import EXPORT_COLUMNS, ExportFormat, export_entries
from jagadata.audit.models import GENESIS_HASH
from jagadata.audit.service import SYSTEM, entry_hash, record
from jagadata.db import atomic

START = datetime(2026, 4, 28, 1, 0, tzinfo=UTC)


def _fill(factory: sessionmaker[Session], organisation_id: int, days: int) -> None:
    with factory() as session:
        for day in range(days):
            with atomic(session):
                record(
                    session=session,
                    organisation_id=organisation_id,
                    actor=SYSTEM,
                    action="retention.swept",
                    user_agent='=HYPERLINK("http://evil.example")',
                    details={"day": day, "deleted": day * 3},
                    occurred_at=START + timedelta(days=day),
                )


def _export(session: Session, organisation_id: int, fmt: ExportFormat, **window: datetime) -> str:
    out = io.StringIO()
    export_entries(session=session, organisation_id=organisation_id, out=out, fmt=fmt, **window)
    return out.getvalue()


def test_json_lines_let_an_auditor_recompute_every_hash(
    factory: sessionmaker[Session], cross_session: Session, organisations: tuple[int, int]
) -> None:
    a, b = organisations
    _fill(factory, a, 4)
    _fill(factory, b, 2)
    lines = _export(cross_session, a, ExportFormat.JSON).splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["sequence"] for e in entries] == [1, 2, 3, 4]
    assert {e["organisation_id"] for e in entries} == {a}
    assert list(entries[0]) == list(EXPORT_COLUMNS)
    previous = GENESIS_HASH
    for entry in entries:
        assert entry["prev_hash"] == previous
        assert entry_hash(entry) == entry["hash"]
        previous = entry["hash"]


def test_csv_has_an_auditors_columns_in_chain_order(
    factory: sessionmaker[Session], cross_session: Session, organisations: tuple[int, int]
) -> None:
    _fill(factory, organisations[0], 3)
    rows = list(csv.reader(io.StringIO(_export(cross_session, organisations[0], ExportFormat.CSV))))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [r["sequence"] for r in body] == ["1", "2", "3"]
    assert body[1]["occurred_at"] == (START + timedelta(days=1)).isoformat(timespec="microseconds")
    assert json.loads(body[2]["details"]) == {"day": 2, "deleted": 6}
    assert body[0]["user_agent"].startswith("'=")
    assert body[0]["ip"] == "" and body[0]["actor_kind"] == "system"


def test_since_is_included_and_until_is_not(
    factory: sessionmaker[Session], cross_session: Session, organisations: tuple[int, int]
) -> None:
    _fill(factory, organisations[0], 5)
    lines = _export(
        cross_session,
        organisations[0],
        ExportFormat.JSON,
        since=START + timedelta(days=1),
        until=START + timedelta(days=3),
    ).splitlines()
    assert [json.loads(line)["sequence"] for line in lines] == [2, 3]
