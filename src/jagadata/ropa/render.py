"""The record of processing as a printable HTML page, a CSV file or an XLSX workbook.

Each writer lays out the same `Record`; none adds or drops a fact. CSV starts with a UTF-8 byte
order mark so that spreadsheet programs read Indonesian names correctly, and stacks the sections
one under the other; the workbook has one sheet per section with its header row frozen.
"""

from __future__ import annotations

import csv
import io
from enum import StrEnum
from functools import cache
from typing import Final

from jinja2 import Environment, PackageLoader, StrictUndefined
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from jagadata.i18n import gettext, ngettext
from jagadata.ropa.record import DOMAIN, Record


class RecordFormat(StrEnum):
    HTML = "html"
    CSV = "csv"
    XLSX = "xlsx"


_SHEET_NAME_LIMIT: Final = 31
_FORBIDDEN_IN_SHEET_NAMES: Final = str.maketrans({c: " " for c in "[]:*?/\\"})
_HEADER_FILL: Final = PatternFill("solid", fgColor="DDE6F0")
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet program reads a CSV cell starting with one of these as a formula."""


def render_record(record: Record, fmt: RecordFormat) -> bytes:
    """The record in `fmt`, as the bytes of the file to write."""
    if fmt is RecordFormat.HTML:
        return record_html(record).encode("utf-8")
    if fmt is RecordFormat.CSV:
        return record_csv(record).encode("utf-8-sig")
    return record_xlsx(record)


def record_html(record: Record) -> str:
    """A whole page, laid out for printing on landscape A4."""
    return _environment(record.lang).get_template("ropa.html.j2").render(record=record)


def record_csv(record: Record) -> str:
    """Each section as its title, its header row and its rows, with an empty line between."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([record.title, record.controller])
    for section in record.sections:
        writer.writerow([])
        writer.writerow([section.title])
        writer.writerow(section.columns)
        writer.writerows([_as_text(cell) for cell in row] for row in section.rows)
    return buffer.getvalue()


def _as_text(cell: str) -> str:
    """'+62 812 ...' stays a phone number, and a cell never runs as a formula: an apostrophe
    in front tells the spreadsheet program it is text."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def record_xlsx(record: Record) -> bytes:
    """One sheet per section, its header row bold and frozen, long cells wrapped."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for section in record.sections:
        sheet = workbook.create_sheet(_sheet_name(section.title))
        sheet.append(list(section.columns))
        for row in section.rows:
            sheet.append(list(row))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = _HEADER_FILL
        sheet.freeze_panes = "B2"
        for index, column in enumerate(section.columns, start=1):
            longest = max([len(column), *(len(row[index - 1]) for row in section.rows)])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(longest, 8), 60)
        for row_cells in sheet.iter_rows(min_row=2):
            for cell in row_cells:
                cell.data_type = "s"  # text, never a formula, even when it starts with '='
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.properties.title = record.title
    workbook.properties.creator = "jagadata"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_name(title: str) -> str:
    """Excel allows 31 characters and none of []:*?/\\ in a sheet's name."""
    name = title.translate(_FORBIDDEN_IN_SHEET_NAMES).strip()
    return name[:_SHEET_NAME_LIMIT].rstrip()


@cache
def _environment(lang: str) -> Environment:
    env = Environment(
        loader=PackageLoader("jagadata.ropa", "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        lstrip_blocks=True,
        trim_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: gettext(lang, message, DOMAIN),
        ngettext=lambda singular, plural, n: ngettext(lang, singular, plural, n, DOMAIN),
        newstyle=True,
    )
    return env
