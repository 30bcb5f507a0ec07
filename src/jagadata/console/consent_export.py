"""The consent ledger for an auditor, as one ZIP file streamed from the database:

- `ledger.jsonl`: one event per line, every field its hash is taken over, `prev_hash` and
  `hash` — `jagadata.consent.ledger.event_hash(line) == line["hash"]` for each line, and each
  line's `prev_hash` is the `hash` of the line before;
- `ledger.csv`: the same events to read in a spreadsheet (no cell is read as a formula);
- `manifest.json`: what was exported — the period, the number of events, their first and last
  sequence and hash (and the hash the first one links to), the SHA-256 of both files, the chain's
  verification at export time, when and by whom.

The controller must be able to prove consent (UU PDP Art. 24): the auditor can recompute every
hash without access to jagadata. The events are read in pages (`yield_per`) up to the chain's
head as it stood when the export began, so two passes read the same events and nothing is held
in memory.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, Final

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from jagadata.audit.models import GENESIS_HASH
from jagadata.consent import ledger
from jagadata.consent.models import ConsentChain, ConsentEvent
from jagadata.console.consent_stats import start_of_day
from jagadata.db.tenancy import acting_for

FORMAT_VERSION: Final = 1
PAGE_ROWS: Final = 1000
CSV_COLUMNS: Final = (
    "sequence",
    "occurred_at",
    "recorded_at",
    "kind",
    "purpose",
    "subject_ref",
    "channel",
    "language",
    "manifest_version",
    "notice_hash",
    "actor_kind",
    "actor_id",
    "actor_label",
    "expires_at",
    "child",
    "guardian_ref",
    "evidence",
    "idempotency_key",
    "receipt_id",
    "receipt_kid",
    "organisation_id",
    "prev_hash",
    "hash",
)
"""What an auditor reads first comes first; the hashes come last."""
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportRequest:
    organisation_id: int
    organisation_slug: str
    since: date | None
    until: date | None
    exported_by: dict[str, Any]
    generated_at: datetime


def _events(session: Session, request: ExportRequest, head: int) -> Iterator[Row[Any]]:
    columns = [getattr(ConsentEvent, name) for name in ledger.EVENT_COLUMNS]
    statement = (
        select(*columns)
        .where(
            ConsentEvent.organisation_id == request.organisation_id,
            ConsentEvent.sequence <= head,
        )
        .order_by(ConsentEvent.sequence)
    )
    if request.since is not None:
        statement = statement.where(ConsentEvent.recorded_at >= start_of_day(request.since))
    if request.until is not None:
        statement = statement.where(
            ConsentEvent.recorded_at < start_of_day(request.until + timedelta(days=1))
        )
    with acting_for(session, request.organisation_id):
        result = session.execute(statement.execution_options(yield_per=PAGE_ROWS))
    try:
        yield from result
    finally:
        result.close()


def _document(row: Row[Any]) -> dict[str, Any]:
    document = row._asdict()
    for name, value in document.items():
        if isinstance(value, datetime):
            document[name] = value.astimezone(UTC).isoformat(timespec="microseconds")
    return document


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


@dataclass
class _Tally:
    count: int = 0
    first_sequence: int | None = None
    last_sequence: int | None = None
    first_prev_hash: str | None = None
    first_hash: str | None = None
    last_hash: str | None = None
    linked: bool = True
    """Every line's `prev_hash` is the `hash` of the line before."""

    def add(self, document: dict[str, Any]) -> None:
        if self.count == 0:
            self.first_sequence = document["sequence"]
            self.first_prev_hash = document["prev_hash"]
            self.first_hash = document["hash"]
        elif document["prev_hash"] != self.last_hash:
            self.linked = False
        self.count += 1
        self.last_sequence = document["sequence"]
        self.last_hash = document["hash"]


class _Hashing(io.RawIOBase):
    """Passes bytes on to the archive member while taking their SHA-256."""

    def __init__(self, member: IO[bytes]) -> None:
        self.member = member
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.digest.update(chunk)
        self.member.write(chunk)
        return len(chunk)


class _Text:
    """What `csv.writer` writes to: each row as UTF-8 into the hashing sink."""

    def __init__(self, sink: _Hashing) -> None:
        self.sink = sink

    def write(self, text: str) -> int:
        return self.sink.write(text.encode("utf-8"))


def write_archive(session: Session, out: IO[bytes], request: ExportRequest) -> dict[str, Any]:
    """Write the ZIP of the ledger to `out` (it need not seek); return its manifest."""
    organisation_id = request.organisation_id
    with acting_for(session, organisation_id):
        chain = session.get(ConsentChain, organisation_id)
    head_sequence = chain.last_sequence if chain else 0
    head_hash = chain.last_hash if chain else GENESIS_HASH
    verified = ledger.verify_ledger(session=session, organisation_id=organisation_id)
    files: dict[str, str] = {}
    tally = _Tally()
    with zipfile.ZipFile(out, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("ledger.jsonl", mode="w", force_zip64=True) as member:
            sink = _Hashing(member)
            for row in _events(session, request, head_sequence):
                document = _document(row)
                tally.add(document)
                line = json.dumps(document, ensure_ascii=False, allow_nan=False, sort_keys=True)
                sink.write((line + "\n").encode("utf-8"))
            files["ledger.jsonl"] = sink.digest.hexdigest()
        with archive.open("ledger.csv", mode="w", force_zip64=True) as member:
            sink = _Hashing(member)
            writer = csv.writer(_Text(sink))
            writer.writerow(CSV_COLUMNS)
            for row in _events(session, request, head_sequence):
                document = _document(row)
                writer.writerow([_cell(document[name]) for name in CSV_COLUMNS])
            files["ledger.csv"] = sink.digest.hexdigest()
        broken = verified.broken
        manifest: dict[str, Any] = {
            "format": "jagadata consent ledger export",
            "format_version": FORMAT_VERSION,
            "hash_version": ledger.HASH_VERSION,
            "hashed_fields": list(ledger.HASHED_FIELDS),
            "organisation": request.organisation_slug,
            "organisation_id": organisation_id,
            "period": {
                "since": request.since.isoformat() if request.since else None,
                "until": request.until.isoformat() if request.until else None,
                "field": "recorded_at",
                "days_in": "Asia/Jakarta",
            },
            "events": tally.count,
            "first_sequence": tally.first_sequence,
            "last_sequence": tally.last_sequence,
            "first_prev_hash": tally.first_prev_hash,
            "first_hash": tally.first_hash,
            "last_hash": tally.last_hash,
            "events_linked": tally.linked,
            "chain": {
                "head_sequence": head_sequence,
                "head_hash": head_hash,
                "verified": broken is None,
                "checked": verified.checked,
                "broken_at": broken.sequence if broken else None,
                "problem": broken.problem.value if broken else None,
            },
            "files": {name: {"sha256": digest} for name, digest in files.items()},
            "generated_at": request.generated_at.astimezone(UTC).isoformat(timespec="seconds"),
            "exported_by": request.exported_by,
        }
        archive.writestr(
            "manifest.json",
            json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        )
    return manifest
