"""The consent pages of the console: rates per purpose and week match the ledger, the empty
state says what to do, a person's history is shown only with a reason and after its audit
entry is written, another organisation's people stay invisible, roles are refused, and the
ledger export for an auditor re-verifies on its own and is audited."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta

from accounts_helpers import GELATO, MILLEALAB, Clock, audit_actions, organisation_id
from console_helpers import csp_problems, signed_in, token_of
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from test_consent_pages_helpers import (
    Seeded,
    chart_columns,
    expected_columns,
    people,
    record,
    week_of,
)

from jagadata.accounts.roles import Role
from jagadata.consent import ledger
from jagadata.consent.models import ConsentChain
from jagadata.db.tenancy import cross_organisation_session
from jagadata.identities import identity_hash

OVERVIEW = f"/admin/o/{GELATO}/consent"
HISTORY = f"/admin/o/{GELATO}/consent/history"
EXPORT = f"/admin/o/{GELATO}/consent/export"
CHART = "consent-chart-marketing"


def _seed_weeks(faker: Faker, now: datetime) -> list[Seeded]:
    """Events over the last weeks, on two channels; one just after midnight WIB on a Monday
    (Sunday in UTC), which belongs to the Monday's week."""
    who = people(faker, 6)
    monday = datetime(2026, 11, 15, 18, 30, tzinfo=UTC)  # Mon 16 Nov, 01:30 WIB
    return [
        Seeded(who[0], "given", "web_form", now - timedelta(days=40)),
        Seeded(who[1], "given", "whatsapp", now - timedelta(days=39)),
        Seeded(who[2], "refused", "web_form", now - timedelta(days=20)),
        Seeded(who[0], "withdrawn", "whatsapp", now - timedelta(days=12)),
        Seeded(who[3], "given", "web_form", monday),
        Seeded(who[4], "given", "email_double_opt_in", monday + timedelta(hours=2)),
        Seeded(who[5], "refused", "whatsapp", now - timedelta(hours=3)),
        Seeded(who[1], "withdrawn", "web_form", now - timedelta(hours=2)),
    ]


def test_the_overview_charts_the_events_recorded_per_week(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.VIEWER)
    seeded = _seed_weeks(faker_id, clock.now)
    record(sessions_of, GELATO, seeded, now=clock.now)
    elsewhere = [
        Seeded(
            e, "given", "cookie_banner", clock.now - timedelta(days=1), purpose="personalisation"
        )
        for e in people(faker_id, 3)
    ]
    record(sessions_of, MILLEALAB, elsewhere, now=clock.now)

    page = web.get(OVERVIEW)
    assert page.status_code == 200 and csp_problems(page.text) == []
    groups, columns = chart_columns(page.text, CHART)
    assert len(groups) == 12 and groups[-1] == week_of(clock.now).isoformat()
    assert columns == expected_columns(seeded)
    assert columns[("2026-11-16", "given")] == 2, "01:30 WIB on Monday is Monday's week"
    table = re.search(r'data-purpose="marketing">.*?</figure>', page.text, re.DOTALL)
    assert table is not None
    for (group, series), value in expected_columns(seeded).items():
        row = re.search(rf'<tr data-group="{group}">.*?</tr>', table.group(0), re.DOTALL)
        assert row is not None
        assert f'data-series="{series}">{value}</td>' in row.group(0)
    assert "personalisation" not in page.text, "MilleaLab's purposes are not Gelato's"

    standing = re.search(r'<tr data-purpose="marketing">.*?</tr>', page.text, re.DOTALL)
    assert standing is not None
    # who[0] and who[1] withdrew, who[2] and who[5] refused, who[3] and who[4] consent
    assert 'data-key="consenting">2<' in standing.group(0)
    assert 'data-key="refused">2<' in standing.group(0)
    assert 'data-key="withdrawn">2<' in standing.group(0)

    home = web.get(f"/admin/o/{GELATO}/")
    card = re.search(
        r'<tr data-purpose="marketing">.*?</tr>', home.text.split('id="consent-now"')[1]
    )
    assert card is not None and '<td class="num">2</td>' in card.group(0)

    filtered = web.get(OVERVIEW, params={"channel": "whatsapp"})
    assert chart_columns(filtered.text, CHART)[1] == expected_columns(seeded, "whatsapp")
    swapped = web.get(OVERVIEW, params={"channel": "whatsapp"}, headers={"hx-request": "true"})
    assert swapped.text.startswith('<div id="consent-results">') and "<html" not in swapped.text
    assert chart_columns(swapped.text, CHART)[1] == expected_columns(seeded, "whatsapp")

    months = web.get(OVERVIEW, params={"unit": "month", "since": "2026-10-01"})
    groups, columns = chart_columns(months.text, CHART)
    assert groups == ["2026-10-01", "2026-11-01"]
    assert sum(columns.values()) == len(seeded)


def test_with_no_event_the_overview_says_what_to_do(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.OWNER)
    page = web.get(OVERVIEW)
    assert page.status_code == 200 and csp_problems(page.text) == []
    assert 'id="consent-empty"' in page.text and "/consent/events" in page.text
    groups, columns = chart_columns(page.text, CHART)
    assert len(groups) == 12 and not columns
    assert 'data-key="consenting">0<' in page.text
    bad = web.get(OVERVIEW, params={"since": "kemarin", "unit": "month"})
    assert bad.status_code == 200 and 'role="alert"' in bad.text
    assert len(chart_columns(bad.text, CHART)[0]) == 12


def _history(web: TestClient, **fields: str) -> tuple[int, str]:
    data = {"csrf_token": token_of(web.get(HISTORY).text), **fields}
    response = web.post(HISTORY, data=data)
    return response.status_code, response.text


def _viewed(factory: sessionmaker[Session]) -> list[object]:
    return [
        e
        for e in audit_actions(factory, organisation_id(factory, GELATO))
        if e.action == "consent.history_viewed"
    ]


def test_a_history_needs_a_reason_and_is_audited_before_it_is_shown(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    staff = signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF)
    email = faker_id.unique.free_email()
    seeded = [
        Seeded(email, "given", "web_form", clock.now - timedelta(days=3)),
        Seeded(email, "withdrawn", "whatsapp", clock.now - timedelta(days=1)),
    ]
    recorded = record(sessions_of, GELATO, seeded, now=clock.now)

    status, html = _history(web, kind="email", value=email, reason="")
    assert status == 400 and 'id="history-reason-error"' in html
    assert 'data-sequence="' not in html and _viewed(sessions_of) == []
    status, html = _history(web, kind="email", value=email, reason=f"permintaan {email}")
    assert status == 400 and _viewed(sessions_of) == [], "no personal data in the reason"
    status, html = _history(web, kind="email", value="bukan-email", reason="Permintaan akses 17")
    assert status == 400 and 'id="history-value-error"' in html

    shouted = "  " + email.upper() + " "
    status, html = _history(web, kind="email", value=shouted, reason="Permintaan akses no. 17")
    assert status == 200 and csp_problems(html) == []
    rows = re.findall(r'<tr data-sequence="(\d+)" data-kind="(\w+)"', html)
    assert rows == [(str(recorded[1].sequence), "withdrawn"), (str(recorded[0].sequence), "given")]
    assert f"/o/{GELATO}/receipts/{recorded[0].receipt_id}" in html
    assert recorded[0].notice_hash[:16] in html
    assert 'data-purpose="marketing" data-status="withdrawn"' in html
    (entry,) = _viewed(sessions_of)
    assert entry.actor_id == str(staff.id)  # type: ignore[attr-defined]
    assert entry.subject_ref == identity_hash("email", email)  # type: ignore[attr-defined]
    assert entry.details["reason"] == "Permintaan akses no. 17"  # type: ignore[attr-defined]
    assert email not in json.dumps(entry.details)  # type: ignore[attr-defined]


def test_another_organisations_people_and_pages_are_invisible(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.DPO)
    email = faker_id.unique.free_email()
    record(
        sessions_of,
        MILLEALAB,
        [Seeded(email, "given", "cookie_banner", clock.now, purpose="personalisation")],
        now=clock.now,
    )
    status, html = _history(web, kind="email", value=email, reason="Pemeriksaan DPO bulanan")
    assert status == 200 and 'id="history-empty"' in html
    assert 'data-sequence="' not in html
    for path in ("consent", "consent/history"):
        assert web.get(f"/admin/o/{MILLEALAB}/{path}").status_code == 404


def test_roles_that_may_not_see_people_or_export_are_refused(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    viewer = signed_in(web, sessions_of, faker_id, clock, role=Role.VIEWER)
    page = web.get(OVERVIEW)
    assert page.status_code == 200
    assert 'id="consent-export"' not in page.text and "consent/history" not in page.text
    assert web.get(HISTORY).status_code == 403
    token = token_of(page.text)
    refused = web.post(
        HISTORY,
        data={
            "csrf_token": token,
            "kind": "email",
            "value": faker_id.free_email(),
            "reason": "Ingin tahu saja",
        },
    )
    assert refused.status_code == 403 and _viewed(sessions_of) == []
    assert web.post(EXPORT, data={"csrf_token": token}).status_code == 403
    assert viewer.id

    web.cookies.clear()
    signed_in(web, sessions_of, faker_id, clock, role=Role.STAFF)
    page = web.get(OVERVIEW)
    assert "consent/history" in page.text and 'id="consent-export"' not in page.text
    assert web.post(EXPORT, data={"csrf_token": token_of(page.text)}).status_code == 403
    exported = [
        e
        for e in audit_actions(sessions_of, organisation_id(sessions_of, GELATO))
        if e.action == "consent.exported"
    ]
    assert exported == []


def test_a_long_history_comes_in_pages_each_audited(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.OWNER)
    email = faker_id.unique.free_email()
    start = clock.now - timedelta(days=70)
    seeded = [
        Seeded(email, "given" if n % 2 == 0 else "withdrawn", "web_form", start + timedelta(days=n))
        for n in range(60)
    ]
    record(sessions_of, GELATO, seeded, now=clock.now)
    status, html = _history(web, kind="email", value=email, reason="Permintaan salinan data 9")
    assert status == 200 and len(re.findall(r'<tr data-sequence="', html)) == 50
    before = re.search(r'name="before" value="(\d+)"', html)
    assert before is not None
    ref = identity_hash("email", email)
    response = web.post(
        HISTORY,
        data={
            "csrf_token": token_of(html),
            "kind": "subject_ref",
            "value": ref,
            "reason": "Permintaan salinan data 9",
            "before": before.group(1),
        },
    )
    assert response.status_code == 200
    assert len(re.findall(r'<tr data-sequence="', response.text)) == 10
    assert 'name="before"' not in response.text
    pages = _viewed(sessions_of)
    assert [e.details["page_before"] for e in pages] == [None, int(before.group(1))]  # type: ignore[attr-defined]


def _export(web: TestClient, **fields: str) -> tuple[zipfile.ZipFile, str]:
    token = token_of(web.get(OVERVIEW).text)
    response = web.post(EXPORT, data={"csrf_token": token, **fields})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content)), response.headers["content-disposition"]


def test_the_export_carries_the_ledgers_hashes_verifies_alone_and_is_audited(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    dpo = signed_in(web, sessions_of, faker_id, clock, role=Role.DPO)
    seeded = _seed_weeks(faker_id, clock.now)
    record(sessions_of, GELATO, seeded[:5], now=clock.now - timedelta(days=2))
    record(sessions_of, GELATO, seeded[5:], now=clock.now)
    record(
        sessions_of,
        MILLEALAB,
        [
            Seeded(
                faker_id.unique.free_email(),
                "given",
                "cookie_banner",
                clock.now,
                purpose="personalisation",
            )
        ],
        now=clock.now,
    )

    archive, disposition = _export(web)
    assert re.search(r'filename="consent-ledger-la-gelato-academy-\d{8}-\d{4}\.zip"', disposition)
    assert sorted(archive.namelist()) == ["ledger.csv", "ledger.jsonl", "manifest.json"]
    lines = [json.loads(line) for line in archive.read("ledger.jsonl").decode().splitlines()]
    manifest = json.loads(archive.read("manifest.json"))
    gelato = organisation_id(sessions_of, GELATO)
    with cross_organisation_session(sessions_of) as session:
        stored = [
            row._asdict() for row in ledger.iter_events(session=session, organisation_id=gelato)
        ]
        head = session.get(ConsentChain, gelato)
        assert head is not None
        stored_head = (head.last_sequence, head.last_hash)
    assert [line["hash"] for line in lines] == [row["hash"] for row in stored]
    assert [line["prev_hash"] for line in lines] == [row["prev_hash"] for row in stored]
    previous = lines[0]["prev_hash"]
    for line in lines:
        assert ledger.event_hash(line) == line["hash"], "an auditor recomputes every hash"
        assert line["prev_hash"] == previous
        previous = line["hash"]
    assert {line["organisation_id"] for line in lines} == {gelato}
    assert manifest["events"] == len(seeded) == len(lines)
    assert (manifest["first_hash"], manifest["last_hash"]) == (lines[0]["hash"], lines[-1]["hash"])
    assert manifest["chain"]["verified"] is True and manifest["chain"]["checked"] == len(seeded)
    assert (manifest["chain"]["head_sequence"], manifest["chain"]["head_hash"]) == stored_head
    assert manifest["exported_by"]["user_id"] == dpo.id
    for name in ("ledger.jsonl", "ledger.csv"):
        digest = hashlib.sha256(archive.read(name)).hexdigest()
        assert manifest["files"][name]["sha256"] == digest
    rows = list(csv.DictReader(io.StringIO(archive.read("ledger.csv").decode())))
    assert [row["hash"] for row in rows] == [line["hash"] for line in lines]
    assert rows[0]["kind"] == seeded[0].kind and rows[0]["child"] == "false"

    today = clock.now.date().isoformat()
    archive, _ = _export(web, since=today, until=today)
    part = json.loads(archive.read("manifest.json"))
    assert part["events"] == len(seeded) - 5 and part["period"]["since"] == today
    assert part["first_prev_hash"] == lines[4]["hash"], "the period links to the event before"

    exported = [e for e in audit_actions(sessions_of, gelato) if e.action == "consent.exported"]
    assert [e.details["since"] for e in exported] == [None, today]
    assert {e.actor_id for e in exported} == {str(dpo.id)}


def test_the_export_reports_a_broken_chain(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    from sqlalchemy import text

    signed_in(web, sessions_of, faker_id, clock, role=Role.OWNER)
    record(sessions_of, GELATO, _seed_weeks(faker_id, clock.now), now=clock.now)
    engine = sessions_of.kw["bind"]
    drops = {
        "sqlite": ["DROP TRIGGER consent_event_no_update"],
        "postgresql": ["DROP TRIGGER consent_event_append_only ON consent_event"],
    }[engine.dialect.name]
    with engine.begin() as connection:
        for drop in drops:
            connection.execute(text(drop))
        connection.execute(
            text(
                "UPDATE consent_event SET purpose = 'analytics' WHERE sequence = 3 "
                "AND organisation_id = :org"
            ),
            {"org": organisation_id(sessions_of, GELATO)},
        )
    archive, _ = _export(web)
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["chain"]["verified"] is False
    assert (manifest["chain"]["broken_at"], manifest["chain"]["problem"]) == (3, "hash_mismatch")


def test_a_ledger_longer_than_a_page_is_exported_whole_and_an_empty_one_verifies(
    web: TestClient, sessions_of: sessionmaker[Session], faker_id: Faker, clock: Clock
) -> None:
    signed_in(web, sessions_of, faker_id, clock, role=Role.OWNER)
    archive, _ = _export(web)
    empty = json.loads(archive.read("manifest.json"))
    assert (empty["events"], empty["last_hash"], empty["chain"]["verified"]) == (0, None, True)
    assert archive.read("ledger.jsonl") == b""

    who = people(faker_id, 2500)
    for start in range(0, len(who), 500):
        batch = [Seeded(email, "given", "web_form", clock.now - timedelta(minutes=5))
                 for email in who[start : start + 500]]  # fmt: skip
        record(sessions_of, GELATO, batch, now=clock.now)
    archive, _ = _export(web)
    lines = archive.read("ledger.jsonl").decode().splitlines()
    manifest = json.loads(archive.read("manifest.json"))
    assert len(lines) == manifest["events"] == manifest["chain"]["checked"] == 2500
    assert [json.loads(line)["sequence"] for line in lines] == list(range(1, 2501))
    assert manifest["events_linked"] is True and manifest["chain"]["verified"] is True
    assert len(archive.read("ledger.csv").decode().splitlines()) == 2501
