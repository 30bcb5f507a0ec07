"""The deadline applied to a request is the stricter of the law and the organisation's promise."""

from __future__ import annotations

from pathlib import Path

import pytest

from jagadata.law import Right
from jagadata.manifest import Manifest, load_manifest
from jagadata.manifest.commitments import (
    acknowledgement_deadline,
    fulfilment_deadline,
    weaker_than_law,
)
from jagadata.manifest.describe import describe_duration, describe_retention
from jagadata.manifest.schema import Calendar
from jagadata.manifest.types import Duration, RetentionPeriod

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def gelato() -> Manifest:
    return load_manifest(EXAMPLES / "la-gelato-academy.yaml").manifest


def with_response(manifest: Manifest, **response: object) -> Manifest:
    data = manifest.model_dump()
    data["rights"]["response"].update(response)
    return Manifest.model_validate(data)


def test_thirty_days_promised_but_the_law_gives_72_hours_for_access(gelato: Manifest) -> None:
    assert weaker_than_law(gelato, Right.ACCESS)
    deadline = fulfilment_deadline(gelato, Right.ACCESS)
    assert deadline is not None
    assert (deadline.duration, deadline.source) == (Duration(72, "h"), "law")
    assert deadline.articles[-1].short == "32(2)"


def test_erasure_has_no_statutory_deadline_so_the_promise_applies(gelato: Manifest) -> None:
    deadline = fulfilment_deadline(gelato, Right.ERASURE)
    assert deadline is not None
    assert (deadline.duration, deadline.source) == (Duration(30, "d"), "organisation")


def test_a_stricter_promise_wins_over_the_law(gelato: Manifest) -> None:
    manifest = with_response(gelato, per_right={"rectification": "24h"})
    deadline = fulfilment_deadline(manifest, Right.RECTIFICATION)
    assert deadline is not None and deadline.duration == Duration(24, "h")
    assert deadline.source == "organisation"


def test_working_days_are_weaker_than_clock_hours(gelato: Manifest) -> None:
    manifest = with_response(gelato, fulfil_within="3d", calendar="working_days")
    assert weaker_than_law(manifest, Right.RESTRICTION)
    deadline = fulfilment_deadline(manifest, Right.RESTRICTION)
    assert deadline is not None and deadline.calendar is Calendar.CLOCK


def test_no_promise_at_all(gelato: Manifest) -> None:
    manifest = with_response(gelato, fulfil_within=None, acknowledge_within=None)
    assert fulfilment_deadline(manifest, Right.PORTABILITY) is None
    assert acknowledgement_deadline(manifest) is None
    withdraw = fulfilment_deadline(manifest, Right.WITHDRAW_CONSENT)
    assert withdraw is not None and withdraw.statutory


@pytest.mark.parametrize(
    ("duration", "lang", "text"),
    [
        (Duration(72, "h"), "id", "3 × 24 jam"),
        (Duration(72, "h"), "en", "72 hours"),
        (Duration(1, "y"), "fr", "1 an"),
        (Duration(5, "y"), "fr", "5 ans"),
        (Duration(24, "m"), "id", "24 bulan"),
        (Duration(1, "d"), "en", "1 day"),
    ],
)
def test_durations_in_words(duration: Duration, lang: str, text: str) -> None:
    assert describe_duration(duration, lang) == text


def test_working_days_in_words() -> None:
    assert (
        describe_duration(Duration(3, "d"), "id", calendar=Calendar.WORKING_DAYS) == "3 hari kerja"
    )


@pytest.mark.parametrize(
    ("period", "lang", "text"),
    [
        ("account_closed + 5y", "id", "selama akun aktif, ditambah 5 tahun setelah akun ditutup"),
        ("transaction + 10y", "en", "10 years from the date of the transaction"),
        ("until consent_withdrawn", "fr", "jusqu'au retrait de votre consentement"),
        ("24m", "id", "24 bulan sejak data dikumpulkan"),
    ],
)
def test_retention_in_words(period: str, lang: str, text: str) -> None:
    assert describe_retention(RetentionPeriod.parse(period), lang) == text
