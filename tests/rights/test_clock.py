"""The request clock: 72 clock hours from receipt, working days in the organisation's own time
zone and on the Indonesian holiday calendar, pauses that move the deadline by their length."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jagadata.law.articles import art
from jagadata.manifest.commitments import Deadline
from jagadata.manifest.schema import Calendar
from jagadata.manifest.types import Duration
from jagadata.rights.clock import (
    Clock,
    Pause,
    UnknownZone,
    WorkingCalendar,
    paused_time,
    reminders_due,
    zone_label,
    zone_of,
)

WIB, WITA, WIT = zone_of("WIB"), zone_of("wita"), zone_of("WIT")
STATUTORY = Deadline(Duration(72, "h"), Calendar.CLOCK, "law", (art("32(2)"),))


def working(amount: int, unit: str = "d") -> Deadline:
    return Deadline(Duration(amount, unit), Calendar.WORKING_DAYS, "organisation", ())  # type: ignore[arg-type]


def local(zone: object, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[arg-type,misc]


def test_zones_are_indonesian_and_labelled() -> None:
    assert WIB.utcoffset(datetime(2026, 1, 1)) == timedelta(hours=7)
    assert WITA.utcoffset(datetime(2026, 1, 1)) == timedelta(hours=8)
    assert WIT.utcoffset(datetime(2026, 1, 1)) == timedelta(hours=9)
    assert [zone_label(z) for z in (WIB, WITA, WIT)] == ["WIB", "WITA", "WIT"]
    assert zone_of("Asia/Makassar") == WITA
    with pytest.raises(UnknownZone, match="WIB, WITA or WIT"):
        zone_of("Europe/Paris")


def test_72_hours_are_clock_hours_from_receipt_whatever_the_day() -> None:
    # Received one minute before midnight on the eve of a public holiday, before a weekend:
    # the law's 3 x 24 jam ignore holidays and weekends.
    received = local(WIB, 2026, 12, 24, 23, 59)
    due = Clock(received, STATUTORY, zone=WIB).base_due()
    assert due == received.astimezone(UTC) + timedelta(hours=72)
    assert due.astimezone(WIB) == local(WIB, 2026, 12, 27, 23, 59)


def test_a_clock_deadline_is_the_same_instant_in_every_zone() -> None:
    received = datetime(2026, 8, 16, 17, 30, tzinfo=UTC)
    dues = {Clock(received, STATUTORY, zone=z).base_due() for z in (WIB, WITA, WIT)}
    assert dues == {datetime(2026, 8, 19, 17, 30, tzinfo=UTC)}


def test_working_days_skip_weekends_and_national_holidays() -> None:
    calendar = WorkingCalendar()
    assert not calendar.is_working_day(date(2026, 12, 25))  # Christmas
    assert not calendar.is_working_day(date(2026, 8, 17))  # Independence Day
    assert not calendar.is_working_day(date(2026, 11, 28))  # a Saturday
    assert calendar.is_working_day(date(2026, 11, 23))  # a Monday
    assert calendar.holiday_name(date(2026, 8, 17), "id") is not None
    # Thursday 24 December, 3 working days: Friday 25 (Christmas), the weekend, then
    # Monday 28, Tuesday 29, Wednesday 30 -> due at the close of Wednesday, WIB.
    due = Clock(local(WIB, 2026, 12, 24, 10, 0), working(3), zone=WIB).base_due()
    assert due.astimezone(WIB) == local(WIB, 2026, 12, 30, 23, 59, 59)


def test_working_days_count_from_the_organisations_own_date_around_midnight() -> None:
    # Thursday 23:30 in Jakarta is already Friday 00:30 in Makassar and 01:30 in Jayapura.
    received = local(WIB, 2026, 11, 26, 23, 30)
    one_day = working(1)
    assert Clock(received, one_day, zone=WIB).base_due().astimezone(WIB).date() == date(
        2026, 11, 27
    )  # Friday
    assert Clock(received, one_day, zone=WITA).base_due().astimezone(WITA).date() == date(
        2026, 11, 30
    )  # Monday
    assert Clock(received, one_day, zone=WIT).base_due().astimezone(WIT) == local(
        WIT, 2026, 11, 30, 23, 59, 59
    )


def test_a_request_on_a_holiday_starts_counting_on_the_next_working_day() -> None:
    received = local(WITA, 2026, 8, 17, 9, 0)  # Independence Day, a Monday
    due = Clock(received, working(2), zone=WITA).base_due().astimezone(WITA)
    assert due.date() == date(2026, 8, 19)  # Tuesday 18 (1), Wednesday 19 (2)


def test_extra_days_off_and_on() -> None:
    calendar = WorkingCalendar(extra_holidays=[date(2026, 12, 24)], extra_working_days=[])
    due = Clock(local(WIB, 2026, 12, 23, 8), working(1), zone=WIB, calendar=calendar).base_due()
    assert due.astimezone(WIB).date() == date(2026, 12, 28)
    saturday = WorkingCalendar(extra_working_days=[date(2026, 11, 28)])
    assert saturday.is_working_day(date(2026, 11, 28))


def test_weeks_in_working_days_are_five_working_days() -> None:
    received = local(WIB, 2026, 11, 23, 9)  # Monday
    due = Clock(received, working(1, "w"), zone=WIB).base_due().astimezone(WIB)
    assert due.date() == date(2026, 11, 30)


def test_a_pause_moves_the_deadline_by_its_length_and_freezes_the_clock() -> None:
    received = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    clock = Clock(received, STATUTORY, zone=WIB)
    started = received + timedelta(hours=10)
    open_pause = Pause(started, None, "waiting for the corrected values")
    assert clock.due([open_pause]) is None
    later = started + timedelta(hours=30)
    assert clock.remaining(later, [open_pause]) == timedelta(hours=62)
    assert clock.remaining(later + timedelta(hours=5), [open_pause]) == timedelta(hours=62)
    closed = Pause(started, later, open_pause.reason)
    assert clock.due([closed]) == received + timedelta(hours=72 + 30)
    assert clock.progress(later, [closed]) == pytest.approx(10 / 72)


def test_overlapping_pauses_count_once() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    pauses = [
        Pause(t0, t0 + timedelta(hours=4), "a"),
        Pause(t0 + timedelta(hours=2), t0 + timedelta(hours=6), "b"),
        Pause(t0 + timedelta(hours=10), t0 + timedelta(hours=11), "c"),
    ]
    assert paused_time(pauses, t0 + timedelta(days=1)) == timedelta(hours=7)


def test_reminders_at_half_and_four_fifths_once_each() -> None:
    assert reminders_due(0.3, []) == []
    assert reminders_due(0.55, []) == [0.5]
    assert reminders_due(0.85, [0.5]) == [0.8]
    assert reminders_due(1.2, [0.5, 0.8]) == []


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        Clock(datetime(2026, 1, 1), STATUTORY, zone=WIB).base_due()


moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
zones = st.sampled_from([WIB, WITA, WIT])


@settings(max_examples=200, deadline=None)
@given(received=moments, zone=zones, days=st.integers(min_value=1, max_value=40))
def test_working_day_deadlines_end_on_a_working_day_after_receipt(
    received: datetime, zone: object, days: int
) -> None:
    clock = Clock(received, working(days), zone=zone)  # type: ignore[arg-type]
    due_local = clock.base_due().astimezone(zone)  # type: ignore[arg-type]
    calendar = WorkingCalendar()
    assert calendar.is_working_day(due_local.date())
    assert due_local.time().hour == 23
    received_day = received.astimezone(zone).date()  # type: ignore[arg-type]
    assert calendar.working_days_between(received_day, due_local.date()) == days
    assert clock.base_due() > received


@settings(max_examples=200, deadline=None)
@given(
    received=moments,
    zone=zones,
    first=st.integers(min_value=0, max_value=10_000),
    delay=st.integers(min_value=0, max_value=200_000),
    length=st.integers(min_value=0, max_value=200_000),
)
def test_a_later_receipt_never_gives_an_earlier_deadline_and_pauses_add_exactly(
    received: datetime, zone: object, first: int, delay: int, length: int
) -> None:
    for deadline in (STATUTORY, working(3)):
        earlier = Clock(received, deadline, zone=zone)  # type: ignore[arg-type]
        later = Clock(received + timedelta(seconds=first), deadline, zone=zone)  # type: ignore[arg-type]
        assert later.base_due() >= earlier.base_due()
        start = received + timedelta(seconds=delay)
        pause = Pause(start, start + timedelta(seconds=length), "waiting")
        assert earlier.due([pause]) == earlier.base_due() + timedelta(seconds=length)
