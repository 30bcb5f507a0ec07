"""The audit log in the console: newest first, a page at a time without skipping or repeating
an entry, filters (also as HTMX fragments), the chain's state with its first broken link, and
exports streamed for an auditor — themselves audited."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

from accounts_helpers import GELATO, Clock, audit_actions, organisation_id
from audit_helpers import as_attacker
from console_helpers import signed_in, token_of
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts.roles import Role
from jagadata.audit.export import EXPORT_COLUMNS
from jagadata.audit.service import Actor, entry_hash, record
from jagadata.console.audit_views import PAGE_SIZE
from jagadata.db import atomic

PAGE = f"/admin/o/{GELATO}/audit"
ROW = re.compile(r'<tr data-sequence="(\d+)" data-action="([a-z_.]+)">')
LINK = re.compile(r'<a rel="(prev|next)" href="([^"]+)"')


def _record(
    factory: sessionmaker[Session], org: int, count: int, action: str, at: datetime
) -> None:
    with factory() as session, atomic(session):
        for n in range(count):
            record(
                session=session,
                organisation_id=org,
                actor=Actor.system("test"),
                action=action,
                details={"n": n},
                occurred_at=at + timedelta(seconds=n),
            )


def _rows(html: str) -> list[tuple[int, str]]:
    return [(int(sequence), action) for sequence, action in ROW.findall(html)]


def _link(html: str, rel: str) -> str | None:
    for found_rel, href in LINK.findall(html):
        if found_rel == rel:
            return str(href).replace("&amp;", "&")
    return None


def test_pages_walk_the_whole_log_newest_first_without_gaps(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.DPO)
    org = organisation_id(sessions_of, GELATO)
    _record(sessions_of, org, 2 * PAGE_SIZE + 7, "test.filled", datetime(2026, 11, 1, tzinfo=UTC))
    total = len(audit_actions(sessions_of, org))
    seen: list[int] = []
    page = web.get(PAGE).text
    assert _link(page, "prev") is None
    pages = 0
    while True:
        pages += 1
        rows = [sequence for sequence, _ in _rows(page)]
        assert len(rows) <= PAGE_SIZE
        seen += rows
        older = _link(page, "next")
        if older is None:
            break
        page = web.get(older).text
    assert pages == 3
    assert seen == list(range(total, 0, -1)), "every entry once, newest first"
    newer = _link(page, "prev")
    assert newer is not None
    back = _rows(web.get(newer).text)
    assert [sequence for sequence, _ in back] == seen[PAGE_SIZE : 2 * PAGE_SIZE]


def test_filters_narrow_the_log_and_htmx_gets_only_the_results(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    dpo = signed_in(web, sessions_of, faker_id, clock, role=Role.OWNER)
    org = organisation_id(sessions_of, GELATO)
    _record(sessions_of, org, 1, "test.before", datetime(2026, 10, 31, 16, 59, 59, tzinfo=UTC))
    _record(sessions_of, org, 4, "test.inside", datetime(2026, 10, 31, 17, 0, tzinfo=UTC))
    _record(sessions_of, org, 1, "test.last", datetime(2026, 11, 3, 16, 59, 59, tzinfo=UTC))
    _record(sessions_of, org, 2, "test.after", datetime(2026, 11, 3, 17, 0, tzinfo=UTC))

    by_action = _rows(web.get(PAGE, params={"action": "test.ins"}).text)
    assert [action for _, action in by_action] == ["test.inside"] * 4
    days = _rows(web.get(PAGE, params={"since": "2026-11-01", "until": "2026-11-03"}).text)
    assert sorted({action for _, action in days}) == ["test.inside", "test.last"], (
        "dates are days in Western Indonesia Time (UTC+7)"
    )
    by_user = _rows(web.get(PAGE, params={"actor": f"user:{dpo.id}"}).text)
    assert [action for _, action in by_user] == ["console.opened"]
    system = _rows(web.get(PAGE, params={"actor": "system", "action": "test"}).text)
    assert len(system) == 8

    fragment = web.get(PAGE, params={"action": "test.after"}, headers={"hx-request": "true"})
    assert fragment.text.lstrip().startswith('<div id="audit-results">')
    assert "<html" not in fragment.text and 'id="chain-status"' not in fragment.text
    assert [action for _, action in _rows(fragment.text)] == ["test.after"] * 2
    assert fragment.headers["vary"].startswith("HX-Request")
    wildcard = _rows(web.get(PAGE, params={"action": "test_%"}).text)
    assert wildcard == [], "the action filter is a plain prefix, not a pattern"
    bad = web.get(PAGE, params={"since": "31/10/2026"})
    assert bad.status_code == 200 and 'role="alert"' in bad.text


def test_a_tampered_entry_shows_where_the_chain_breaks(
    app: FastAPI,
    web: TestClient,
    sessions_of: sessionmaker[Session],
    faker_id: Faker,
    clock: Clock,
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.DPO)
    org = organisation_id(sessions_of, GELATO)
    _record(sessions_of, org, 5, "test.kept", datetime(2026, 11, 1, tzinfo=UTC))
    assert "chain-ok" in web.get(PAGE, params={"verify": "now"}).text
    as_attacker(
        app.state.engine,
        "UPDATE audit_entry SET action = 'test.undone' WHERE organisation_id = :o AND sequence = 6",
        o=org,
    )
    page = web.get(PAGE, params={"verify": "now"}).text
    status = re.search(r'<p class="chain-broken" id="chain-status" role="alert">([^<]+)<', page)
    assert status is not None and "6" in status.group(1)
    clock.advance(minutes=2)
    home = web.get(f"/admin/o/{GELATO}/").text
    assert 'class="chain-broken"' in home and f'href="/admin/o/{GELATO}/audit"' in home


def _export(web: TestClient, **fields: str) -> tuple[int, str, str]:
    response = web.post(
        f"{PAGE}/export", data={"csrf_token": token_of(web.get(PAGE).text), **fields}
    )
    return response.status_code, response.headers.get("content-disposition", ""), response.text


def test_exports_stream_the_chain_and_are_themselves_audited(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    dpo = signed_in(web, sessions_of, faker_id, clock, role=Role.DPO)
    org = organisation_id(sessions_of, GELATO)
    _record(sessions_of, org, 1500, "test.bulk", datetime(2026, 11, 1, tzinfo=UTC))
    status, disposition, body = _export(web, format="csv")
    assert status == 200 and re.search(r'attachment; filename="audit-la-gelato-academy-.*\.csv"',
                                       disposition)  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(body)))
    entries = audit_actions(sessions_of, org)
    assert tuple(rows[0].keys()) == EXPORT_COLUMNS
    assert [int(row["sequence"]) for row in rows] == [e.sequence for e in entries]
    assert rows[-1]["action"] == "audit.exported" and rows[-1]["actor_id"] == str(dpo.id)

    status, disposition, body = _export(web, format="json", since="2026-11-01", until="2026-11-01")
    assert status == 200 and disposition.endswith('.jsonl"')
    lines = [json.loads(line) for line in body.splitlines()]
    assert {line["action"] for line in lines} == {"test.bulk"} and len(lines) == 1500
    for line in lines[:3]:
        assert entry_hash(line) == line["hash"], "an auditor can recompute each hash"
    exported = [e for e in audit_actions(sessions_of, org) if e.action == "audit.exported"]
    assert [e.details["format"] for e in exported] == ["csv", "json"]
    assert exported[1].details["since"] == "2026-11-01"
