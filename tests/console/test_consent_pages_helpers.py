"""Helpers for the consent pages' tests: events recorded through the consent service for
generated people, and the chart's columns read back from the page."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from accounts_helpers import organisation_id
from console_helpers import svgs
from faker import Faker
from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.service import Actor
from jagadata.consent.schemas import EventIn
from jagadata.consent.service import record_events
from jagadata.db import atomic
from jagadata.orgs.service import WIB

SVG_NS = "{http://www.w3.org/2000/svg}"
SERIES = {"given": "given", "renewed": "given", "refused": "refused", "withdrawn": "withdrawn"}


@dataclass(frozen=True)
class Seeded:
    email: str
    kind: str
    channel: str
    occurred_at: datetime
    purpose: str = "marketing"


def record(
    factory: sessionmaker[Session],
    slug: str,
    seeded: list[Seeded],
    *,
    now: datetime,
    language: str = "id",
) -> list[Any]:
    """Each event through `consent.service.record_events`, as the system, committed."""
    events = [
        EventIn.model_validate(
            {
                "kind": s.kind,
                "purpose": s.purpose,
                "subject": {"kind": "email", "value": s.email},
                "language": language,
                "channel": s.channel,
                "occurred_at": s.occurred_at.isoformat(),
                "evidence": {"ip": "203.0.113.57", "user_agent": "Mozilla/5.0 (uji)"},
            }
        )
        for s in seeded
    ]
    with factory() as session, atomic(session):
        recorded = record_events(
            session=session,
            organisation_id=organisation_id(factory, slug),
            events=events,
            actor=Actor.system("test"),
            now=now,
        )
    return recorded.events


def week_of(moment: datetime) -> date:
    day = moment.astimezone(WIB).date()
    return day - timedelta(days=day.weekday())


def expected_columns(seeded: list[Seeded], channel: str | None = None) -> Counter[tuple[str, str]]:
    """(week start, series) -> events, counted from what the test recorded."""
    counted: Counter[tuple[str, str]] = Counter()
    for s in seeded:
        if channel is None or s.channel == channel:
            counted[(week_of(s.occurred_at).isoformat(), SERIES[s.kind])] += 1
    return counted


def chart_columns(html: str, chart: str) -> tuple[list[str], Counter[tuple[str, str]]]:
    """The chart's groups (periods) in order, and its non-zero columns."""
    for svg in svgs(html):
        if svg.get("id") == chart:
            groups, counted = [], Counter[tuple[str, str]]()
            for group in svg.iter(f"{SVG_NS}g"):
                key = group.get("data-group", "")
                groups.append(key)
                for rect in group.iter(f"{SVG_NS}rect"):
                    value = int(rect.get("data-value", "-1"))
                    if value:
                        counted[(key, rect.get("data-series", ""))] = value
            return groups, counted
    raise AssertionError(f"no chart {chart} on the page")


def people(faker: Faker, count: int) -> list[str]:
    return [faker.unique.free_email() for _ in range(count)]
