"""Charts are well-formed SVG a screen reader can name, with the right numbers: the same as in
the table beside them, and the findings chart the same as `jagadata check`."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from accounts_helpers import GELATO, Clock
from console_helpers import EXAMPLE_TEXT, signed_in, svgs
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.roles import Role
from jagadata.checks import Severity, run_checks
from jagadata.console.charts import Bar, BarChart
from jagadata.manifest.loader import load_manifest_text

SVG_NS = "{http://www.w3.org/2000/svg}"


def test_a_bar_chart_is_accessible_svg_with_bars_in_proportion() -> None:
    chart = BarChart(
        "demo", "Temuan <manifest> & lainnya", (Bar("error", "Galat", 2), Bar("info", "Info", 8))
    )
    svg = ET.fromstring(chart.svg())
    assert svg.tag == f"{SVG_NS}svg" and svg.get("role") == "img"
    title, desc = svg.find(f"{SVG_NS}title"), svg.find(f"{SVG_NS}desc")
    assert title is not None and title.text == "Temuan <manifest> & lainnya"
    assert desc is not None and desc.text == "Galat: 2; Info: 8"
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    widths = {}
    for row in svg.findall(f"{SVG_NS}g"):
        bar = next(r for r in row.findall(f"{SVG_NS}rect") if "bar" in (r.get("class") or ""))
        value = row.find(f"{SVG_NS}text[@class='value']")
        assert value is not None and value.text == row.get("data-value")
        widths[row.get("data-key")] = float(bar.get("width") or 0)
    assert widths["info"] == 4 * widths["error"] > 0


def test_an_empty_chart_draws_no_bar_and_says_so() -> None:
    chart = BarChart("none", "Kosong", (Bar("dead", "Gagal", 0), Bar("sent", "Terkirim", 0)))
    svg = ET.fromstring(chart.svg(lambda n: f"{n:,}"))
    bars = [r for r in svg.iter(f"{SVG_NS}rect") if "bar-" in (r.get("class") or "")]
    assert [b.get("width") for b in bars] == ["0", "0"]
    assert chart.total == 0


def test_the_dashboard_charts_findings_as_jagadata_check_counts_them(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.VIEWER)
    page = web.get(f"/admin/o/{GELATO}/").text
    findings = run_checks(load_manifest_text(EXAMPLE_TEXT), lang="id")
    expected = {s.value: sum(f.severity is s for f in findings) for s in Severity}
    assert sum(expected.values()) > 0
    charts = {svg.get("id"): svg for svg in svgs(page)}
    assert set(charts) == {"findings-chart", "outbox-chart"}
    rows = charts["findings-chart"].findall(f"{SVG_NS}g")
    assert {row.get("data-key"): int(row.get("data-value") or -1) for row in rows} == expected
    table = re.search(r"<table>\s*<caption>[^<]*</caption>.*?</table>", page, re.DOTALL)
    assert table is not None
    cells = dict(re.findall(r'<tr data-key="(\w+)"><th scope="row">[^<]*</th>'
                            r'<td class="num">(\d+)</td>', table.group(0)))  # fmt: skip
    assert {key: int(value) for key, value in cells.items()} == expected
