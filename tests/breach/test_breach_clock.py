"""The breach clock's arithmetic, for any deadline and any sweep times: the deadline is never
later than the law's 72 hours from discovery, each reminder goes out once, in order, and only
once its hour has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from jagadata.breach.clock import LAW_HOURS, deadline, reminder_marks, reminders_due, time_left_text
from jagadata.manifest.schema import Breach
from jagadata.manifest.types import Duration

DISCOVERED = datetime(2026, 11, 23, 3, 15, tzinfo=UTC)


@given(
    promise=st.none() | st.integers(min_value=1, max_value=200),
    counted_from=st.sampled_from(["discovery", "occurrence"]),
    before=st.none() | st.integers(min_value=0, max_value=500),
)
def test_the_deadline_is_never_later_than_the_law_s(
    promise: int | None, counted_from: str, before: int | None
) -> None:
    breach = Breach(
        notify_subjects_within=Duration(promise, "h") if promise else None,
        counted_from=counted_from,  # type: ignore[arg-type]
    )
    occurred = DISCOVERED - timedelta(hours=before) if before is not None else None
    due = deadline(breach, DISCOVERED, occurred)
    assert due.due_at <= DISCOVERED + timedelta(hours=LAW_HOURS)
    start = occurred if counted_from == "occurrence" and occurred is not None else DISCOVERED
    if promise is not None and start + timedelta(hours=promise) < DISCOVERED + timedelta(hours=72):
        assert due.due_at == start + timedelta(hours=promise)
        assert due.explanation["source"] == "organisation"
    else:
        assert due.due_at == DISCOVERED + timedelta(hours=LAW_HOURS)
        assert due.explanation["source"] == "law"


@given(
    hours=st.integers(min_value=1, max_value=72),
    sweeps=st.lists(st.floats(min_value=0, max_value=100), max_size=30),
)
def test_each_reminder_goes_out_once_and_only_after_its_hour(
    hours: int, sweeps: list[float]
) -> None:
    due = DISCOVERED + timedelta(hours=hours)
    sent: list[int] = []
    for at in sorted(sweeps):
        now = DISCOVERED + timedelta(hours=at)
        for mark in reminders_due(DISCOVERED, due, sent, now):
            assert mark <= at
            sent.append(mark)
    assert len(sent) == len(set(sent))
    reached = [m for m in reminder_marks(DISCOVERED, due) if sweeps and m <= max(sweeps)]
    assert sent == reached


def test_72_hours_remind_at_24_48_60_and_the_time_left_reads_naturally() -> None:
    due = DISCOVERED + timedelta(hours=72)
    assert reminder_marks(DISCOVERED, due) == [24, 48, 60]
    now = DISCOVERED + timedelta(hours=24, minutes=6)
    assert time_left_text(due, now, "id") == "sisa 47 jam 54 menit"
    assert time_left_text(due, due + timedelta(minutes=65), "en") == "overdue by 1 h 5 min"
    assert time_left_text(due, now, "fr", stopped=True) == "délai arrêté : notifié"
