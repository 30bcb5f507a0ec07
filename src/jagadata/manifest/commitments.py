"""Deadlines that apply to a request: the stricter of the law and the organisation's promise.

Used by the linter (a promise weaker than the law), the policy (the deadline people read) and
the request workflow (the clock). "3 x 24 jam" in UU PDP is 72 clock hours from receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from jagadata.law.articles import Article
from jagadata.law.facts import RIGHTS, STATUTORY_HOURS, Right
from jagadata.manifest.schema import Calendar, Manifest
from jagadata.manifest.types import Duration


@dataclass(frozen=True, slots=True)
class Deadline:
    duration: Duration
    calendar: Calendar
    source: Literal["law", "organisation"]
    articles: tuple[Article, ...]

    @property
    def statutory(self) -> bool:
        return self.source == "law"


def promised(manifest: Manifest, right: Right) -> tuple[Duration, Calendar] | None:
    """What the manifest promises for `right`: its own entry, else the general fulfilment time."""
    response = manifest.rights.response
    duration = response.per_right.get(right) or response.fulfil_within
    return (duration, response.calendar) if duration else None


def weaker_than_law(manifest: Manifest, right: Right) -> bool:
    """The promise for a right the law gives 72 hours is longer, or counts only working days."""
    fact = RIGHTS[right]
    promise = promised(manifest, right)
    if fact.statutory_hours is None or promise is None:
        return False
    duration, calendar = promise
    return duration.approx_hours > fact.statutory_hours or calendar is Calendar.WORKING_DAYS


def fulfilment_deadline(manifest: Manifest, right: Right) -> Deadline | None:
    """The deadline jagadata applies: the law's 72 hours where it sets them, else the promise."""
    fact = RIGHTS[right]
    promise = promised(manifest, right)
    statutory = Deadline(Duration(STATUTORY_HOURS, "h"), Calendar.CLOCK, "law", fact.articles)
    if fact.statutory_hours is not None:
        if promise is None or weaker_than_law(manifest, right):
            return statutory
        duration, calendar = promise
        return Deadline(duration, calendar, "organisation", fact.articles)
    if promise is None:
        return None
    duration, calendar = promise
    return Deadline(duration, calendar, "organisation", ())


def acknowledgement_deadline(manifest: Manifest) -> Deadline | None:
    response = manifest.rights.response
    if response.acknowledge_within is None:
        return None
    return Deadline(response.acknowledge_within, response.calendar, "organisation", ())
