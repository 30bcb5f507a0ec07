"""Where a request may go from where it stands: the workflow as a table, checked in one place.

    received ──verify──▶ verified ──start──▶ in_progress ──fulfil──▶ fulfilled
        │                    │                   │  └──────refuse──▶ refused   (a ground, always)
        │                    └─────refuse────────┘
        ├──close_unverified──▶ closed_unverified  (never silently lost: the record stays)
        └── withdraw (by the person, from any open state) ──▶ withdrawn

Where the manifest requires a second person's approval for a right, fulfil and refuse lead to
awaiting_approval; approve (by someone else than the one who asked) completes the pending
outcome, reject sends the request back to in_progress.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from jagadata.rights.states import RequestStatus


class Action(StrEnum):
    VERIFY = "verify"
    START = "start"
    FULFIL = "fulfil"
    REFUSE = "refuse"
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    CLOSE_UNVERIFIED = "close_unverified"


S = RequestStatus
_OPEN: Final = (S.RECEIVED, S.VERIFIED, S.IN_PROGRESS, S.AWAITING_APPROVAL)
TRANSITIONS: Final[dict[tuple[RequestStatus, Action], RequestStatus]] = {
    (S.RECEIVED, Action.VERIFY): S.VERIFIED,
    (S.RECEIVED, Action.CLOSE_UNVERIFIED): S.CLOSED_UNVERIFIED,
    (S.VERIFIED, Action.START): S.IN_PROGRESS,
    (S.VERIFIED, Action.REFUSE): S.REFUSED,
    (S.IN_PROGRESS, Action.FULFIL): S.FULFILLED,
    (S.IN_PROGRESS, Action.REFUSE): S.REFUSED,
    (S.AWAITING_APPROVAL, Action.APPROVE): S.FULFILLED,  # or REFUSED: the pending outcome decides
    (S.AWAITING_APPROVAL, Action.REJECT): S.IN_PROGRESS,
    **{(status, Action.WITHDRAW): S.WITHDRAWN for status in _OPEN},
}


class TransitionRefused(ValueError):
    """The action is not possible from the request's current status."""

    def __init__(self, status: RequestStatus, action: Action) -> None:
        super().__init__(f"cannot {action.value} a request that is {status.value}")
        self.status = status
        self.action = action


def next_status(
    status: RequestStatus,
    action: Action,
    *,
    approval_required: bool = False,
    pending: RequestStatus | None = None,
) -> RequestStatus:
    """The status after `action`; TransitionRefused when the table does not allow it.

    With `approval_required`, fulfil and refuse wait for a second person (awaiting_approval);
    approve then lands on the `pending` outcome (fulfilled or refused).
    """
    target = TRANSITIONS.get((status, action))
    if target is None:
        raise TransitionRefused(status, action)
    if action in (Action.FULFIL, Action.REFUSE) and approval_required:
        return S.AWAITING_APPROVAL
    if action is Action.APPROVE:
        if pending not in (S.FULFILLED, S.REFUSED):
            raise TransitionRefused(status, action)
        return pending
    return target


def allowed_actions(status: RequestStatus) -> tuple[Action, ...]:
    """What can be done next, in the table's order (for buttons and the API's links)."""
    return tuple(action for (source, action) in TRANSITIONS if source is status)


def is_open(status: RequestStatus) -> bool:
    return status in _OPEN
