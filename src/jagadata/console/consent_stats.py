"""Consent rates for the console: events counted per purpose and period (a week or a month in
Western Indonesia Time), and how many people consent to each purpose now.

Counting is done by the database, grouped by day, so a page costs one query whatever the size
of the ledger; days are then gathered into weeks or months here. No person is named: these are
numbers an organisation shows its board to show that consent is asked and honoured (Art. 24).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import ColumnElement, Date, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from jagadata.consent.models import ConsentEvent, ConsentState, EventKind, Status
from jagadata.consent.state import consent_purposes
from jagadata.consent.terms import PurposeTerms
from jagadata.db.tenancy import acting_for
from jagadata.orgs.service import WIB


class Unit(StrEnum):
    WEEK = "week"
    MONTH = "month"


class Series(StrEnum):
    """What the chart compares; a renewal counts as given (it is a consent given again)."""

    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


SERIES_OF: Final = {
    EventKind.GIVEN.value: Series.GIVEN,
    EventKind.RENEWED.value: Series.GIVEN,
    EventKind.REFUSED.value: Series.REFUSED,
    EventKind.WITHDRAWN.value: Series.WITHDRAWN,
}
DEFAULT_PERIODS: Final = 12
MAX_PERIODS: Final = {Unit.WEEK: 104, Unit.MONTH: 60}
"""A chart wider than this is unreadable: a longer range is shortened to its latest periods."""


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=WIB)


def period_start(day: date, unit: Unit) -> date:
    """The Monday of its week, or the first of its month."""
    if unit is Unit.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period(start: date, unit: Unit) -> date:
    if unit is Unit.WEEK:
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_periods(start: date, unit: Unit, count: int) -> date:
    """The start of the period `count` periods before the one starting at `start`."""
    if unit is Unit.WEEK:
        return start - timedelta(days=7 * count)
    months = start.year * 12 + start.month - 1 - count
    return date(months // 12, months % 12 + 1, 1)


@dataclass(frozen=True)
class Range:
    """Whole periods from `first` to `last` (both period starts), and the days asked for."""

    unit: Unit
    since: date
    until: date
    clipped: bool = False

    @classmethod
    def of(cls, unit: Unit, since: date | None, until: date | None, today: date) -> Range:
        until = until or today
        if since is None or since > until:
            since = previous_periods(period_start(until, unit), unit, DEFAULT_PERIODS - 1)
        earliest = previous_periods(period_start(until, unit), unit, MAX_PERIODS[unit] - 1)
        if since < earliest:
            return cls(unit, earliest, until, clipped=True)
        return cls(unit, since, until)

    def periods(self) -> list[date]:
        starts, current = [], period_start(self.since, self.unit)
        while current <= self.until:
            starts.append(current)
            current = next_period(current, self.unit)
        return starts


@dataclass
class PurposeRates:
    purpose: str
    counts: dict[date, dict[Series, int]] = field(default_factory=dict)

    def total(self, series: Series) -> int:
        return sum(period.get(series, 0) for period in self.counts.values())


def _day(session: Session) -> ColumnElement[Any]:
    """The day an event happened on, in Western Indonesia Time."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Jakarta", ConsentEvent.occurred_at), Date)
    return func.date(ConsentEvent.occurred_at, "+7 hours")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def rates(
    *,
    session: Session,
    organisation_id: int,
    span: Range,
    purposes: list[str],
    channel: str | None = None,
) -> list[PurposeRates]:
    """Given, refused and withdrawn events per purpose (in `purposes`' order) and period."""
    day = _day(session).label("day")
    statement = (
        select(ConsentEvent.purpose, ConsentEvent.kind, day, func.count().label("events"))
        .where(
            ConsentEvent.organisation_id == organisation_id,
            ConsentEvent.occurred_at >= start_of_day(period_start(span.since, span.unit)),
            ConsentEvent.occurred_at < start_of_day(span.until + timedelta(days=1)),
            ConsentEvent.kind.in_(SERIES_OF),
            ConsentEvent.purpose.in_(purposes),
        )
        .group_by(ConsentEvent.purpose, ConsentEvent.kind, day)
    )
    if channel:
        statement = statement.where(ConsentEvent.channel == channel)
    periods = span.periods()
    found = {
        purpose: PurposeRates(purpose, {start: {} for start in periods}) for purpose in purposes
    }
    with acting_for(session, organisation_id):
        rows = session.execute(statement).all()
    for row in rows:
        start = period_start(_as_date(row.day), span.unit)
        counts = found[row.purpose].counts.get(start)
        if counts is None:
            continue
        series = SERIES_OF[row.kind]
        counts[series] = counts.get(series, 0) + int(row.events)
    return list(found.values())


@dataclass(frozen=True)
class Standing:
    """Where the people of one purpose stand now, from the current state."""

    purpose: str
    consenting: int
    refused: int
    withdrawn: int
    lapsed: int
    """Given, but expired (`renew_after`) or under a version that needs fresh consent."""


def standings(
    *,
    session: Session,
    organisation_id: int,
    terms: list[PurposeTerms],
    extra: list[str],
    now: datetime,
) -> list[Standing]:
    """People per status and purpose now; a consent past its expiry or given under a version
    older than the terms' `renewal_from` (Art. 21(2)) is not counted as consenting."""
    renewal = {t.purpose: t.renewal_from for t in terms}
    state = ConsentState
    valid = and_(
        or_(state.expires_at.is_(None), state.expires_at > now),
        or_(
            *[
                and_(state.purpose == purpose, state.manifest_version >= version)
                for purpose, version in renewal.items()
            ],
            state.purpose.not_in(list(renewal)),
        ),
    )
    consenting = func.sum(case((and_(state.status == Status.GIVEN.value, valid), 1), else_=0))
    statement = (
        select(
            state.purpose,
            consenting.label("consenting"),
            func.count().filter(state.status == Status.GIVEN.value).label("given"),
            func.count().filter(state.status == Status.REFUSED.value).label("refused"),
            func.count().filter(state.status == Status.WITHDRAWN.value).label("withdrawn"),
            func.count().filter(state.status == Status.EXPIRED.value).label("expired"),
        )
        .where(state.organisation_id == organisation_id)
        .group_by(state.purpose)
    )
    with acting_for(session, organisation_id):
        rows = {row.purpose: row for row in session.execute(statement)}
    result = []
    for purpose in [t.purpose for t in terms] + [p for p in extra if p not in renewal]:
        row = rows.get(purpose)
        if row is None:
            result.append(Standing(purpose, 0, 0, 0, 0))
            continue
        now_given = int(row.consenting or 0)
        result.append(
            Standing(
                purpose,
                now_given,
                int(row.refused),
                int(row.withdrawn),
                int(row.expired) + int(row.given) - now_given,
            )
        )
    return result


def recorded_purposes(*, session: Session, organisation_id: int) -> list[str]:
    """Every purpose the ledger has an event for (a purpose may have left the manifest)."""
    with acting_for(session, organisation_id):
        return sorted(
            session.scalars(
                select(ConsentState.purpose)
                .where(ConsentState.organisation_id == organisation_id)
                .distinct()
            )
        )


def terms_in_force(*, session: Session, organisation_id: int, now: datetime) -> list[PurposeTerms]:
    """The consent-based purposes of the version in force (none before a manifest)."""
    try:
        return consent_purposes(session=session, organisation_id=organisation_id, now=now)[1]
    except LookupError:
        return []


def consenting_now(*, session: Session, organisation_id: int, now: datetime) -> list[Standing]:
    """Per purpose in force (and any other in the ledger), where its people stand now."""
    return standings(
        session=session,
        organisation_id=organisation_id,
        terms=terms_in_force(session=session, organisation_id=organisation_id, now=now),
        extra=recorded_purposes(session=session, organisation_id=organisation_id),
        now=now,
    )
