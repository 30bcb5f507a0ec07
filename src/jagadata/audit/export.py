"""The audit trail for an auditor: CSV to read, JSON lines to re-verify, streamed in chain order.

Every JSON line carries all the fields an entry's hash is taken over, so an auditor can
recompute each hash (`jagadata.audit.service.entry_hash`) and follow `prev_hash` from entry
to entry without access to the database.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, TextIO

from sqlalchemy import Row
from sqlalchemy.orm import Session

from jagadata.audit.service import iter_entries


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    """JSON lines: one entry per line."""


EXPORT_COLUMNS: Final = (
    "sequence",
    "occurred_at",
    "action",
    "actor_kind",
    "actor_id",
    "actor_label",
    "target_type",
    "target_id",
    "subject_ref",
    "ip",
    "user_agent",
    "details",
    "organisation_id",
    "prev_hash",
    "hash",
)
"""What an auditor reads first comes first; the hashes, for re-verification, come last."""

_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def export_entries(
    *,
    session: Session,
    organisation_id: int | None,
    out: TextIO,
    fmt: ExportFormat,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write the chain's entries (`since` inclusive, `until` exclusive) to `out`; count them."""
    rows = iter_entries(session=session, organisation_id=organisation_id, since=since, until=until)
    count = 0
    if fmt is ExportFormat.CSV:
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow([_csv_cell(value) for value in _values(row)])
            count += 1
        return count
    for row in rows:
        document = dict(zip(EXPORT_COLUMNS, _values(row), strict=True))
        out.write(json.dumps(document, ensure_ascii=False, allow_nan=False) + "\n")
        count += 1
    return count


def _values(row: Row[Any]) -> list[Any]:
    fields = row._asdict()
    values = []
    for column in EXPORT_COLUMNS:
        value = fields[column]
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        values.append(value)
    return values


def _csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: JSON for details, and no cell read as a formula."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
