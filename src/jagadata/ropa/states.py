"""Where a DPIA of the workspace stands, readable without the database: the linter and the
record of processing take these values, the console stores them (Art. 34)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from jagadata.i18n import N_


class DpiaState(StrEnum):
    """A DPIA is drafted, submitted to the data protection officer, then signed off by them."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    SIGNED_OFF = "signed_off"


STATE_LABELS: Final = {
    DpiaState.DRAFT: N_("Draft"),
    DpiaState.SUBMITTED: N_("Submitted to the data protection officer"),
    DpiaState.SIGNED_OFF: N_("Signed off by the data protection officer"),
}

NOT_STARTED: Final = N_("Not started in the workspace")

RISK_LEVELS: Final = {
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
}


def risk_level(likelihood: int, severity: int) -> str:
    """'low', 'medium' or 'high' for a likelihood and a severity each on a scale of 1 to 3."""
    score = likelihood * severity
    if score >= 6:
        return "high"
    if score >= 3:
        return "medium"
    return "low"


@dataclass(frozen=True, slots=True)
class DpiaSummary:
    """What the record of processing shows of a purpose's DPIA in the workspace."""

    state: DpiaState
    residual_level: str | None
    signed_off_at: datetime | None
