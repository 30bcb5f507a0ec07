"""Read a written record of processing back into tables, one per section, whatever its format.

Each reader returns {section key: [row, ...]} with the header row left out, so a test checks the
same facts in the HTML page, the CSV file and the workbook.
"""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

from openpyxl import load_workbook

SECTION_KEYS = (
    "controller",
    "activities",
    "categories",
    "recipients",
    "transfers",
    "retention",
    "security",
    "systems",
    "dpias",
)
Tables = dict[str, list[list[str]]]


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: Tables = {}
        self.section: str | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self.section = dict(attrs)["id"]
            assert self.section is not None
            self.tables[self.section] = []
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.row = []
        elif tag == "td" and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.row is not None and self.cell is not None:
            self.row.append("".join(self.cell))
            self.cell = None
        elif tag == "tr" and self.row is not None and self.section is not None:
            self.tables[self.section].append(self.row)
            self.row = None
        elif tag == "tbody":
            self.in_body = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def html_tables(page: bytes) -> Tables:
    parser = _Tables()
    parser.feed(page.decode("utf-8"))
    return parser.tables


def csv_tables(content: bytes) -> Tables:
    """Blocks after the title line: an empty line, the section title, its header, its rows."""
    assert content.startswith(b"\xef\xbb\xbf"), "the CSV starts with a UTF-8 byte order mark"
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    blocks: list[list[list[str]]] = []
    for row in rows[1:]:
        if not row:
            blocks.append([])
        else:
            blocks[-1].append(row)
    assert len(blocks) == len(SECTION_KEYS)
    return {key: block[2:] for key, block in zip(SECTION_KEYS, blocks, strict=True)}


def xlsx_tables(content: bytes) -> Tables:
    workbook = load_workbook(io.BytesIO(content), read_only=False)
    assert len(workbook.worksheets) == len(SECTION_KEYS)
    tables: Tables = {}
    for key, sheet in zip(SECTION_KEYS, workbook.worksheets, strict=True):
        assert sheet.freeze_panes == "B2", f"the header row of {sheet.title} is frozen"
        values = [
            ["" if value is None else str(value) for value in row]
            for row in sheet.iter_rows(min_row=2, values_only=True)
        ]
        tables[key] = values
    return tables
