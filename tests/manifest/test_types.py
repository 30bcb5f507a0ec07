"""Durations and retention periods: what people write parses to what they meant, and back."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jagadata.manifest.types import Duration, RetentionPeriod, RetentionStart, Text

units = st.sampled_from(["h", "d", "w", "m", "y"])
amounts = st.integers(min_value=0, max_value=99999)


@given(amounts, units)
def test_duration_round_trips_through_its_text(amount: int, unit: str) -> None:
    duration = Duration(amount, unit)  # type: ignore[arg-type]
    assert Duration.parse(str(duration)) == duration


@given(
    amounts,
    st.sampled_from(
        [
            ("jam", "h"),
            ("hari", "d"),
            ("bulan", "m"),
            ("tahun", "y"),
            ("years", "y"),
            ("months", "m"),
            ("bln", "m"),
            ("thn", "y"),
        ]
    ),
    st.text(alphabet=" ", max_size=3),
)
def test_duration_accepts_words_in_indonesian_and_english(
    amount: int, word: tuple[str, str], spaces: str
) -> None:
    assert Duration.parse(f"{spaces}{amount}{spaces}{word[0].upper()}") == Duration(amount, word[1])  # type: ignore[arg-type]


@given(st.text(max_size=30))
def test_duration_parser_fails_only_with_a_readable_value_error(text: str) -> None:
    try:
        Duration.parse(text)
    except ValueError as error:
        assert "duration" in str(error)


@given(st.sampled_from(list(RetentionStart)), amounts, units)
def test_retention_period_round_trips(start: RetentionStart, amount: int, unit: str) -> None:
    period = RetentionPeriod(start, Duration(amount, unit))  # type: ignore[arg-type]
    reparsed = RetentionPeriod.parse(str(period))
    if amount == 0:
        assert reparsed.is_until_event and reparsed.start is start
    else:
        assert reparsed == period


@given(st.text(max_size=40))
def test_retention_parser_fails_only_with_a_readable_value_error(text: str) -> None:
    try:
        RetentionPeriod.parse(text)
    except ValueError as error:
        assert "retention period" in str(error) or "start event" in str(error)


@pytest.mark.parametrize(
    ("text", "start", "duration"),
    [
        ("24m", RetentionStart.COLLECTED, Duration(24, "m")),
        ("account_closed + 5y", RetentionStart.ACCOUNT_CLOSED, Duration(5, "y")),
        ("transaction+10 years", RetentionStart.TRANSACTION, Duration(10, "y")),
        ("until consent_withdrawn", RetentionStart.CONSENT_WITHDRAWN, Duration(0, "d")),
        ("  Until  Contract_End ", RetentionStart.CONTRACT_END, Duration(0, "d")),
    ],
)
def test_retention_examples_from_the_seed_policies(
    text: str, start: RetentionStart, duration: Duration
) -> None:
    period = RetentionPeriod.parse(text)
    assert (period.start, period.duration) == (start, duration)


def test_unknown_retention_event_names_the_events() -> None:
    with pytest.raises(ValueError, match="account_closed"):
        RetentionPeriod.parse("graduation + 2y")


@pytest.mark.parametrize(
    ("duration", "start", "end"),
    [
        (Duration(72, "h"), datetime(2026, 1, 30, 23, 0), datetime(2026, 2, 2, 23, 0)),
        (Duration(1, "m"), datetime(2026, 1, 31, 10, 0), datetime(2026, 2, 28, 10, 0)),
        (Duration(5, "y"), datetime(2024, 2, 29, 0, 0), datetime(2029, 2, 28, 0, 0)),
        (Duration(24, "m"), datetime(2026, 12, 15), datetime(2028, 12, 15)),
        (Duration(2, "w"), datetime(2026, 12, 25), datetime(2027, 1, 8)),
    ],
)
def test_durations_use_calendar_arithmetic(
    duration: Duration, start: datetime, end: datetime
) -> None:
    assert duration.after(start) == end


def test_a_bare_number_is_refused_with_a_hint() -> None:
    from pydantic import TypeAdapter, ValidationError

    with pytest.raises(ValidationError, match="add a unit"):
        TypeAdapter(Duration).validate_python(30)


def test_text_falls_back_to_indonesian() -> None:
    text = Text.model_validate("Identitas")
    assert text.get("fr") == "Identitas"
    assert text.languages() == ("id",)
    both = Text(id="Identitas", en="Identity")
    assert both.get("en") == "Identity" and both.get("fr") == "Identitas"
