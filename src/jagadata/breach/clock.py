"""The breach clock: written notice within 3 x 24 hours (UU PDP Art. 46(1)).

The law does not settle whether the 72 hours run from the failure itself or from its discovery;
jagadata counts from discovery (the moment the organisation could act) and records the moment of
occurrence when it is known. An organisation may promise less time in its manifest
(`breach.notify_subjects_within`, `notify_authority_within`, counted from `counted_from`): the
deadline is then the earliest of the law's and its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from jagadata.i18n import gettext
from jagadata.manifest.schema import Breach

LAW_HOURS: Final = 72
ARTICLE: Final = "46(1)"
REMINDER_SHARES: Final = (1 / 3, 2 / 3, 5 / 6)
"""When the DPO and owners are reminded: for 72 hours, at 24, 48 and 60 hours."""


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "breach")


@dataclass(frozen=True)
class Deadline:
    """When notice is due and how that moment was reached (kept with the incident)."""

    due_at: datetime
    counted_from: str
    explanation: dict[str, Any]


def deadline(breach: Breach, discovered_at: datetime, occurred_at: datetime | None) -> Deadline:
    """The law's 72 hours from discovery, or the organisation's shorter promise."""
    law_due = discovered_at + timedelta(hours=LAW_HOURS)
    due = law_due
    source = "law"
    start = discovered_at
    if breach.counted_from == "occurrence" and occurred_at is not None:
        start = occurred_at
    promised: dict[str, str] = {}
    for audience, within in (
        ("subjects", breach.notify_subjects_within),
        ("authority", breach.notify_authority_within),
    ):
        if within is None:
            continue
        moment = within.after(start)
        promised[audience] = str(within)
        if moment < due:
            due, source = moment, "organisation"
    return Deadline(
        due_at=due,
        counted_from=breach.counted_from,
        explanation={
            "law_hours": LAW_HOURS,
            "article": ARTICLE,
            "law_due": law_due.isoformat(),
            "counted_from": breach.counted_from,
            "promised": promised,
            "source": source,
        },
    )


def time_left(due_at: datetime, now: datetime) -> timedelta:
    """Negative once the deadline has passed."""
    return due_at - now


def reminder_marks(discovered_at: datetime, due_at: datetime) -> list[int]:
    """The hours after discovery at which a reminder goes out: 24, 48, 60 for 72 hours."""
    span = (due_at - discovered_at).total_seconds() / 3600
    return sorted({max(1, round(span * share)) for share in REMINDER_SHARES})


def reminders_due(
    discovered_at: datetime, due_at: datetime, sent: list[int], now: datetime
) -> list[int]:
    """The reminder marks reached at `now` and not sent yet."""
    elapsed = (now - discovered_at).total_seconds() / 3600
    return [
        mark
        for mark in reminder_marks(discovered_at, due_at)
        if mark <= elapsed and mark not in sent
    ]


def hours_and_minutes(left: timedelta) -> tuple[int, int]:
    """Whole hours and minutes of a (positive or negative) span, for display."""
    minutes = int(abs(left).total_seconds() // 60)
    return minutes // 60, minutes % 60


def time_left_text(due_at: datetime, now: datetime, lang: str, *, stopped: bool = False) -> str:
    """'47 h 54 min left', 'overdue by 3 h 5 min', or 'clock stopped' once notified."""
    if stopped:
        return _t(lang, "clock stopped: notified")
    left = time_left(due_at, now)
    hours, minutes = hours_and_minutes(left)
    if left.total_seconds() < 0:
        return _t(lang, "overdue by {hours} h {minutes} min").format(hours=hours, minutes=minutes)
    return _t(lang, "{hours} h {minutes} min left").format(hours=hours, minutes=minutes)
