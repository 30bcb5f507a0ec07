"""The export of one person's data found in a database, for access (Art. 7, 32) and portability
(Art. 13) requests: structured, commonly used and machine-readable, plus a page to read.

`write_export` takes the batches the engine's `access` yields and writes them into an open zip
(the request's bundle) under a prefix such as `databases/shop_db/`:

    data.json       {"system": {"id", "name"}, "language", "tables": {name: {"columns",
                    "categories", "category_labels", "base64_columns", "row_count", "rows"}}}
                    every row as {column: value}; values made JSON-safe: dates and times in
                    ISO 8601 (with their offset when the database kept one), durations as ISO 8601
                    durations, decimals as strings (no rounding), binary data in base64 (its
                    columns listed in base64_columns), anything else as its text
    csv/<table>.csv one per table with rows: UTF-8 with a byte order mark (spreadsheets then read
                    Indonesian text right), a header row of column names, an empty cell for NULL
    summary.html    a printable page in the person's language (id, en, fr): per table how many
                    rows, which data categories, and the first rows; everything escaped, no
                    external file

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        summary = write_export(access(conn, plan), archive, prefix="databases/shop_db/",
                               manifest=manifest, system_id="shop_db", lang="id")
    summary.as_dict()   # per table its row count and categories; each file's size and SHA-256

Every mapped table of the system's datastore is listed, with 0 rows where nothing was found
(the record shows it was looked at). Memory stays bounded whatever the number of rows: each
table's rows are spooled to a temporary file (erased when the export ends) as they arrive, in
as many batches as the engine sends and in any order, and each member is then streamed into
the zip; only the few rows the summary page shows are kept in memory.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import math
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Final

from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader

from jagadata.datastores.results import Rows
from jagadata.i18n import LANGUAGES, normalise_language, translations
from jagadata.manifest.mapping import TableMap
from jagadata.manifest.schema import Manifest

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
PREVIEW_ROWS: Final = 10
"""Rows of each table the summary page shows; all of them are in data.json and the CSV."""
PREVIEW_CELL: Final = 200
"""Characters of a value the summary page shows before cutting it short."""
SPOOL_IN_MEMORY: Final = 256 * 1024
"""Bytes of a table's rows kept in memory before its spool moves to a temporary file."""
WRITE_CHUNK: Final = 64 * 1024


# --- what the export reports -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableExport:
    """One table of the export: how many rows, which data categories its mapped columns hold,
    and its CSV member (None when no row was found)."""

    table: str
    rows: int
    categories: tuple[str, ...]
    csv: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rows": self.rows,
            "categories": list(self.categories),
            "csv": self.csv,
        }


@dataclass(frozen=True, slots=True)
class ExportedFile:
    """A member written into the zip, with what proves it unchanged (for SHA256SUMS)."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What one system's export holds, for the request's record."""

    system: str
    tables: tuple[TableExport, ...]
    files: tuple[ExportedFile, ...]

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "rows": self.total_rows,
            "tables": [t.as_dict() for t in self.tables],
            "files": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in self.files],
        }


# --- values a JSON reader and a spreadsheet understand ---------------------------------------


def json_safe(value: Any) -> Any:
    """The value as JSON holds it without loss: ISO 8601 for dates, times and durations,
    decimals as text, binary data in base64, JSON documents kept nested, anything else as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return str(value)


def iso_duration(value: timedelta) -> str:
    """'P1DT2H3M4.5S', '-PT30M': a duration (a PostgreSQL interval) in ISO 8601."""
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = ""
    if hours:
        clock += f"{hours}H"
    if minutes:
        clock += f"{minutes}M"
    if seconds or value.microseconds:
        whole = f"{seconds}.{value.microseconds:06d}".rstrip("0").rstrip(".")
        clock += f"{whole}S"
    days = f"{value.days}D" if value.days else ""
    if not days and not clock:
        return "PT0S"
    return f"{sign}P{days}" + (f"T{clock}" if clock else "")


def cell(value: Any) -> str:
    """A JSON-safe value as a CSV cell: empty for NULL, true/false, nested documents as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


# --- spooling rows as they arrive ------------------------------------------------------------


@dataclass(slots=True)
class _Spool:
    """One table's rows so far: one JSON object per line in a temporary file."""

    table: TableMap
    file: IO[bytes]
    columns: dict[str, None] = field(default_factory=dict)
    binary: dict[str, None] = field(default_factory=dict)
    count: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)

    def add(self, batch: Rows) -> None:
        names = batch.columns
        self.columns.update(dict.fromkeys(names))
        lines = []
        for values in batch.rows:
            row = {}
            for name, value in zip(names, values, strict=True):
                if isinstance(value, bytes | bytearray | memoryview):
                    self.binary[name] = None
                row[name] = json_safe(value)
            if len(self.preview) < PREVIEW_ROWS:
                self.preview.append(row)
            lines.append(json.dumps(row, ensure_ascii=False, allow_nan=False))
        if lines:
            self.file.write(("\n".join(lines) + "\n").encode("utf-8"))
            self.count += len(lines)

    def rows(self) -> Iterator[str]:
        """The spooled rows, each as its JSON text, in the order they arrived."""
        self.file.seek(0)
        for line in self.file:
            yield line.decode("utf-8").rstrip("\n")


def _spool_all(batches: Iterable[Rows], tables: list[TableMap], stack: ExitStack) -> list[_Spool]:
    """Every batch into its table's spool; the datastore's tables first, in their order."""
    spools: dict[str, _Spool] = {}

    def spool_of(table: TableMap) -> _Spool:
        if table.name not in spools:
            spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, mode="w+b")  # noqa: SIM115
            file = stack.enter_context(spooled)  # closed, and so erased, when the export ends
            spools[table.name] = _Spool(table, file)
        return spools[table.name]

    for table in tables:
        spool_of(table)
    for batch in batches:
        spool_of(batch.table).add(batch)
    return list(spools.values())


# --- writing members -------------------------------------------------------------------------


class _Member:
    """A zip member written as a stream of text, counted and hashed as it goes."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0
        self.pending: list[str] = []
        self.pending_size = 0

    def write(self, text: str) -> None:
        self.pending.append(text)
        self.pending_size += len(text)
        if self.pending_size >= WRITE_CHUNK:
            self.flush()

    def flush(self) -> None:
        data = "".join(self.pending).encode("utf-8")
        self.pending, self.pending_size = [], 0
        self.digest.update(data)
        self.size += len(data)
        self.handle.write(data)


@contextmanager
def _member(
    archive: zipfile.ZipFile, name: str, moment: datetime, written: list[ExportedFile]
) -> Iterator[_Member]:
    info = zipfile.ZipInfo(name, date_time=moment.astimezone(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as handle:
        member = _Member(handle)
        yield member
        member.flush()
    written.append(ExportedFile(name, member.size, member.digest.hexdigest()))


def _category_name(manifest: Manifest, category_id: str, lang: str) -> str:
    """The data category's name in `lang`; its id if the manifest does not name it."""
    category = manifest.category(category_id)
    return category.name.get(lang) if category else category_id


def _category_labels(table: TableMap, manifest: Manifest, lang: str) -> dict[str, str]:
    """Column to the name of its data category in `lang`, for the table's mapped columns."""
    return {c.name: _category_name(manifest, c.category, lang) for c in table.columns}


def _categories(table: TableMap) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.category for c in table.columns))


def _write_json(
    member: _Member, spools: list[_Spool], system: dict[str, str], manifest: Manifest, lang: str
) -> None:
    dump = json.dumps
    member.write(f'{{\n  "system": {dump(system, ensure_ascii=False)},\n')
    member.write(f'  "language": {dump(lang)},\n  "tables": {{')
    for number, spool in enumerate(spools):
        head = {
            "columns": list(spool.columns),
            "categories": {c.name: c.category for c in spool.table.columns},
            "category_labels": _category_labels(spool.table, manifest, lang),
            "base64_columns": list(spool.binary),
            "row_count": spool.count,
        }
        member.write(("," if number else "") + f"\n    {dump(spool.table.name)}: {{")
        for key, value in head.items():
            member.write(f"\n      {dump(key)}: {dump(value, ensure_ascii=False)},")
        member.write('\n      "rows": [')
        for index, line in enumerate(spool.rows()):
            member.write(("," if index else "") + "\n        " + line)
        member.write("\n      ]" if spool.count else "]")
        member.write("\n    }")
    member.write("\n  }\n}\n" if spools else "}\n}\n")


def _write_csv(member: _Member, spool: _Spool) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = list(spool.columns)
    member.write("\ufeff")
    writer.writerow(columns)
    for line in spool.rows():
        row = json.loads(line)
        writer.writerow([cell(row.get(name)) for name in columns])
        if buffer.tell() >= WRITE_CHUNK:
            member.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    member.write(buffer.getvalue())


def _csv_names(spools: list[_Spool], prefix: str) -> dict[str, str]:
    """Table to its CSV member, unique even where file names ignore letter case."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for spool in spools:
        if not spool.count:
            continue
        base = spool.table.name
        name, n = base, 2
        while name.lower() in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name.lower())
        names[spool.table.name] = f"{prefix}csv/{name}.csv"
    return names


# --- the summary page ------------------------------------------------------------------------


@lru_cache(maxsize=len(LANGUAGES))
def environment(lang: str) -> Environment:
    """The templates of this package, every value escaped, translated from `datastores`."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]
        translations(lang, "datastores"), newstyle=True
    )
    env.filters["number"] = lambda n: format_decimal(n, locale=lang)
    env.filters["cell"] = _preview_cell
    return env


def _preview_cell(value: Any) -> str:
    text = cell(value)
    return text if len(text) <= PREVIEW_CELL else text[: PREVIEW_CELL - 1] + "…"


def _summary_page(
    spools: list[_Spool],
    csv_names: Mapping[str, str],
    prefix: str,
    system: dict[str, str],
    manifest: Manifest,
    lang: str,
) -> str:
    tables = [
        {
            "name": spool.table.name,
            "rows": spool.count,
            "columns": list(spool.columns),
            "labels": _category_labels(spool.table, manifest, lang),
            "categories": [_category_name(manifest, c, lang) for c in _categories(spool.table)],
            "preview": spool.preview,
            "csv": csv_names[spool.table.name].removeprefix(prefix)
            if spool.table.name in csv_names
            else None,
        }
        for spool in spools
    ]
    return (
        environment(lang)
        .get_template("export.html.j2")
        .render(
            lang=lang,
            system=system,
            tables=tables,
            total=sum(spool.count for spool in spools),
        )
    )


# --- the export ------------------------------------------------------------------------------


def _prefix(prefix: str) -> str:
    """`prefix` as a folder inside the zip: relative, no '..', ending in '/' (or empty)."""
    cleaned = prefix.replace("\\", "/").strip("/")
    if cleaned and (".." in cleaned.split("/") or "" in cleaned.split("/")):
        raise ValueError(f"the export's prefix {prefix!r} is not a plain folder inside the zip")
    return f"{cleaned}/" if cleaned else ""


def _system(manifest: Manifest, system_id: str) -> tuple[dict[str, str], list[TableMap]]:
    system = next((s for s in manifest.systems if s.id == system_id), None)
    if system is None:
        raise ValueError(f"the manifest has no system {system_id!r} to export from")
    tables = list(system.datastore.tables) if system.datastore else []
    return {"id": system.id, "name": system.name}, tables


def write_export(
    batches: Iterable[Rows],
    archive: zipfile.ZipFile,
    *,
    prefix: str,
    manifest: Manifest,
    system_id: str,
    lang: str,
    moment: datetime | None = None,
) -> ExportSummary:
    """Write one system's rows of a person into `archive` under `prefix` (data.json, csv/,
    summary.html) and say what was written. `moment` stamps the members (now if unset)."""
    folder = _prefix(prefix)
    lang = normalise_language(lang)
    stamp = moment or datetime.now(UTC)
    system, mapped = _system(manifest, system_id)
    written: list[ExportedFile] = []
    with ExitStack() as stack:
        spools = _spool_all(batches, mapped, stack)
        csv_names = _csv_names(spools, folder)
        with _member(archive, f"{folder}data.json", stamp, written) as member:
            _write_json(member, spools, system, manifest, lang)
        for spool in spools:
            if spool.table.name in csv_names:
                with _member(archive, csv_names[spool.table.name], stamp, written) as member:
                    _write_csv(member, spool)
        with _member(archive, f"{folder}summary.html", stamp, written) as member:
            member.write(_summary_page(spools, csv_names, folder, system, manifest, lang))
        tables = tuple(
            TableExport(s.table.name, s.count, _categories(s.table), csv_names.get(s.table.name))
            for s in spools
        )
    return ExportSummary(system_id, tables, tuple(written))
