"""The request clock: when a request's deadline falls, how far along it is, and why.

UU PDP counts its duties "paling lambat 3 x 24 jam terhitung sejak ... menerima permintaan":
72 clock hours from the moment the controller *receives* the request (Art. 30(1), 32(2), 40(2),
41(1)). Clock deadlines are therefore plain elapsed time; the organisation's time zone (WIB, WITA
or WIT) only matters for deadlines the manifest promises in working days, which end at the close
of the n-th Indonesian working day (Monday to Friday, not a public holiday) after the day of
receipt, as the organisation's own calendar sees it.

A pause — allowed only for a recorded reason, such as waiting for information the person has to
supply — moves the deadline by exactly its length; while a pause is open the clock stands still.

    start = received_at
    deadline = fulfilment_deadline(manifest, Right.ACCESS)      # 72 h, from the law
    clock = Clock(start, deadline, zone=zone_of("WITA"))
    clock.due(pauses)          # an aware UTC datetime, or None while paused
    clock.progress(now, pauses)   # 0.0 at receipt, 1.0 when due: reminders at 0.5 and 0.8
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from jagadata.manifest.commitments import Deadline
from jagadata.manifest.schema import Calendar

ZONES: Final = {
    "WIB": "Asia/Jakarta",
    "WITA": "Asia/Makassar",
    "WIT": "Asia/Jayapura",
}
"""Indonesia's three time zones (UTC+7, +8, +9) by the names people use."""
INDONESIAN_ZONES: Final = frozenset({*ZONES.values(), "Asia/Pontianak", "Asia/Ujung_Pandang"})
DEFAULT_ZONE: Final = "WIB"
END_OF_DAY: Final = time(23, 59, 59)


class UnknownZone(ValueError):
    """A time zone that is neither WIB, WITA, WIT nor an IANA zone of Indonesia."""


def zone_of(name: str) -> ZoneInfo:
    """WIB/WITA/WIT (any case) or an Indonesian IANA name such as Asia/Makassar."""
    key = ZONES.get(name.strip().upper(), name.strip())
    if key not in INDONESIAN_ZONES:
        raise UnknownZone(
            f"unknown time zone {name!r}: use WIB, WITA or WIT "
            "(or Asia/Jakarta, Asia/Makassar, Asia/Jayapura)"
        )
    try:
        return ZoneInfo(key)
    except ZoneInfoNotFoundError as error:  # pragma: no cover - tzdata ships with Python/OS
        raise UnknownZone(f"time zone data for {key} is missing: install tzdata") from error


def zone_label(zone: ZoneInfo) -> str:
    """'WIB', 'WITA' or 'WIT' for display; the IANA key for anything else."""
    for label, key in ZONES.items():
        if zone.key == key:
            return label
    return {"Asia/Pontianak": "WIB", "Asia/Ujung_Pandang": "WITA"}.get(zone.key, zone.key)


class WorkingCalendar:
    """Indonesian working days: Monday to Friday except national public holidays.

    `extra_holidays` adds days off the national list does not know (cuti bersama, a regional
    holiday); `extra_working_days` turns a day back into a working day.
    """

    def __init__(
        self,
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> None:
        self._extra_off = frozenset(extra_holidays)
        self._extra_on = frozenset(extra_working_days)

    def is_working_day(self, day: date) -> bool:
        if day in self._extra_on:
            return True
        if day in self._extra_off or day.weekday() >= 5:
            return False
        return day not in _national_holidays(day.year)

    def holiday_name(self, day: date, lang: str = "id") -> str | None:
        """The national holiday on `day` in `lang` (id or en), or None."""
        if day in self._extra_off:
            return "Cuti bersama" if lang == "id" else "Collective leave"
        return _holiday_names(day.year, "id" if lang == "id" else "en_US").get(day)

    def nth_working_day_after(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (`day` itself never counts)."""
        if count < 0:
            raise ValueError("count must be zero or more")
        current = day
        while count:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count -= 1
        return current

    def working_days_between(self, first: date, last: date) -> int:
        """Working days in (first, last]: how many of the days after `first` up to `last` count."""
        days = 0
        current = first
        while current < last:
            current += timedelta(days=1)
            days += self.is_working_day(current)
        return days


@lru_cache(maxsize=64)
def _national_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("ID", years=year))


@lru_cache(maxsize=64)
def _holiday_names(year: int, language: str) -> dict[date, str]:
    return dict(holidays.country_holidays("ID", years=year, language=language).items())


@dataclass(frozen=True, slots=True)
class Pause:
    """The clock stood still from `started` until `ended` (None: still paused)."""

    started: datetime
    ended: datetime | None
    reason: str

    def length(self, now: datetime) -> timedelta:
        return max((self.ended or now) - self.started, timedelta(0))


def paused_time(pauses: Sequence[Pause], now: datetime) -> timedelta:
    """Total time the clock stood still up to `now` (overlapping pauses count once)."""
    spans = sorted(
        (_utc(p.started), _utc(p.ended or now)) for p in pauses if _utc(p.started) < _utc(now)
    )
    total = timedelta(0)
    current_start: datetime | None = None
    current_end: datetime | None = None
    for start, end in spans:
        end = min(end, _utc(now))
        if current_end is None or start > current_end:
            if current_start is not None and current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_start is not None and current_end is not None:
        total += max(current_end - current_start, timedelta(0))
    return total


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the clock needs aware datetimes (naive times have no time zone)")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Clock:
    """One deadline of one request, counted from `start` (receipt, or verification if the
    organisation chose so with a recorded reason)."""

    start: datetime
    deadline: Deadline
    zone: ZoneInfo
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    def base_due(self) -> datetime:
        """When the deadline falls if the clock never stops (UTC)."""
        start = _utc(self.start)
        duration = self.deadline.duration
        if self.deadline.calendar is Calendar.CLOCK or duration.unit == "h":
            if duration.unit in ("m", "y"):
                return duration.after(start.astimezone(self.zone)).astimezone(UTC)
            return duration.after(start)
        local_day = start.astimezone(self.zone).date()
        if duration.unit in ("d", "w"):
            days = duration.amount * (5 if duration.unit == "w" else 1)
            last = self.calendar.nth_working_day_after(local_day, days)
        else:  # months or years promised "in working days": the calendar date, then a working day
            shifted = duration.after(start.astimezone(self.zone)).date()
            last = shifted
            while not self.calendar.is_working_day(last):
                last += timedelta(days=1)
        return datetime.combine(last, END_OF_DAY, tzinfo=self.zone).astimezone(UTC)

    def due(self, pauses: Sequence[Pause] = ()) -> datetime | None:
        """The deadline moved by every pause so far; None while a pause is open."""
        if any(p.ended is None for p in pauses):
            return None
        if not pauses:
            return self.base_due()
        latest = max(_utc(p.ended) for p in pauses if p.ended is not None)
        return self.base_due() + paused_time(pauses, latest)

    def budget(self) -> timedelta:
        return self.base_due() - _utc(self.start)

    def elapsed(self, now: datetime, pauses: Sequence[Pause] = ()) -> timedelta:
        """Running time since the start, pauses excluded."""
        return max(_utc(now) - _utc(self.start) - paused_time(pauses, now), timedelta(0))

    def remaining(self, now: datetime, pauses: Sequence[Pause] = ()) -> timedelta:
        """Time left (negative when overdue); frozen while paused."""
        return self.budget() - self.elapsed(now, pauses)

    def progress(self, now: datetime, pauses: Sequence[Pause] = ()) -> float:
        """0.0 at the start, 1.0 when due, above 1.0 when late."""
        budget = self.budget().total_seconds()
        if budget <= 0:
            return 1.0
        return self.elapsed(now, pauses).total_seconds() / budget

    def overdue(self, now: datetime, pauses: Sequence[Pause] = ()) -> bool:
        return self.remaining(now, pauses) < timedelta(0)


REMINDER_THRESHOLDS: Final = (0.5, 0.8)
"""Reminders go to the assignee at half and four fifths of the time; overdue goes to the DPO."""


def reminders_due(progress: float, already_sent: Iterable[float]) -> list[float]:
    """Thresholds crossed by `progress` whose reminder has not gone out yet (oldest first)."""
    sent = set(already_sent)
    return [t for t in REMINDER_THRESHOLDS if progress >= t and t not in sent]
