"""Streaming the audit export: `jagadata.audit.export` writes the entries (the same format as
`jagadata audit export`) in a thread of its own, and the response sends them on as they come,
so an export of millions of entries never sits in memory."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Final, TextIO, cast

from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.export import ExportFormat, export_entries
from jagadata.db.tenancy import scope

CHUNK_CHARS: Final = 64 * 1024
QUEUE_CHUNKS: Final = 8
PUT_WAIT_SECONDS: Final = 0.5


class _Stopped(Exception):
    """The client went away: the writer stops reading the chain."""


class ChunkWriter:
    """A sink (text or bytes) that hands chunks to the response, at most `QUEUE_CHUNKS`
    waiting: a slow client slows the writer instead of filling memory."""

    def __init__(self, chunks: queue.Queue[bytes | BaseException | None], stop: threading.Event):
        self.chunks = chunks
        self.stop = stop
        self.buffer: list[bytes] = []
        self.size = 0

    def write(self, data: str | bytes) -> int:
        chunk = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        self.buffer.append(chunk)
        self.size += len(chunk)
        if self.size >= CHUNK_CHARS:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.buffer:
            self.put(b"".join(self.buffer))
            self.buffer, self.size = [], 0

    def put(self, item: bytes | BaseException | None) -> None:
        while True:
            if self.stop.is_set():
                raise _Stopped()
            try:
                self.chunks.put(item, timeout=PUT_WAIT_SECONDS)
                return
            except queue.Full:
                continue


def stream_export(
    factory: sessionmaker[Session],
    *,
    organisation_id: int,
    fmt: ExportFormat,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[bytes]:
    """The organisation's entries in chain order, as chunks of the export file."""

    def write(session: Session, out: ChunkWriter) -> None:
        export_entries(
            session=session,
            organisation_id=organisation_id,
            out=cast(TextIO, out),
            fmt=fmt,
            since=since,
            until=until,
        )

    return stream_produced(
        factory, organisation_id=organisation_id, write=write, name="audit-export"
    )


def stream_produced(
    factory: sessionmaker[Session],
    *,
    organisation_id: int,
    write: Callable[[Session, ChunkWriter], None],
    name: str,
) -> Iterator[bytes]:
    """Whatever `write` writes (text or bytes) with a session of the organisation, in a thread
    of its own, sent on as chunks; a client that goes away stops the writer."""
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
    stop = threading.Event()
    writer = ChunkWriter(chunks, stop)

    def produce() -> None:
        try:
            with factory() as session:
                scope(session, organisation_id)
                write(session, writer)
            writer.flush()
            writer.put(None)
        except _Stopped:
            return
        except BaseException as error:
            try:
                writer.put(error)
            except _Stopped:
                return

    producer = threading.Thread(target=produce, name=name, daemon=True)
    producer.start()
    try:
        while True:
            item = chunks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join(timeout=5)
