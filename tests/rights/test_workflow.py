"""The workflow table, the refusal grounds the law allows per right, and the plan a manifest
gives a request (deadlines, tasks, identifiers)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jagadata.law.facts import Right
from jagadata.manifest.loader import LoadedManifest
from jagadata.manifest.schema import Calendar
from jagadata.rights.grounds import GROUNDS, UnknownGround, ground_for, grounds_for
from jagadata.rights.plan import identifiers, offered_rights, plan_request
from jagadata.rights.states import RequestStatus
from jagadata.rights.workflow import (
    TRANSITIONS,
    Action,
    TransitionRefused,
    allowed_actions,
    is_open,
    next_status,
)

S = RequestStatus


def test_the_happy_path() -> None:
    status = S.RECEIVED
    for action in (Action.VERIFY, Action.START, Action.FULFIL):
        status = next_status(status, action)
    assert status is S.FULFILLED
    assert not is_open(status)


def test_nothing_leaves_a_closed_request() -> None:
    for closed in (S.FULFILLED, S.REFUSED, S.WITHDRAWN, S.CLOSED_UNVERIFIED):
        assert allowed_actions(closed) == ()
        for action in Action:
            with pytest.raises(TransitionRefused):
                next_status(closed, action)


def test_an_unverified_request_cannot_be_fulfilled_or_refused() -> None:
    for action in (Action.FULFIL, Action.REFUSE, Action.START):
        with pytest.raises(TransitionRefused, match="received"):
            next_status(S.RECEIVED, action)


def test_approval_holds_the_outcome_until_a_second_person_approves() -> None:
    waiting = next_status(S.IN_PROGRESS, Action.FULFIL, approval_required=True)
    assert waiting is S.AWAITING_APPROVAL
    assert next_status(waiting, Action.APPROVE, pending=S.FULFILLED) is S.FULFILLED
    assert next_status(waiting, Action.APPROVE, pending=S.REFUSED) is S.REFUSED
    assert next_status(waiting, Action.REJECT) is S.IN_PROGRESS
    with pytest.raises(TransitionRefused):
        next_status(waiting, Action.APPROVE, pending=None)


@given(st.lists(st.sampled_from(list(Action)), max_size=12))
def test_any_sequence_of_actions_stays_inside_the_table(actions: list[Action]) -> None:
    status = S.RECEIVED
    for action in actions:
        try:
            after = next_status(status, action, pending=S.FULFILLED)
        except TransitionRefused:
            assert (status, action) not in TRANSITIONS or action is Action.APPROVE
            continue
        assert (status, action) in TRANSITIONS
        status = after
    assert status in set(S)


def test_every_right_by_request_has_grounds_from_the_law_only() -> None:
    assert {g.key for g in grounds_for(Right.ACCESS)} == {
        "33(a)",
        "33(b)",
        "33(c)",
        "50(1)(a)",
        "50(1)(b)",
        "50(1)(c)",
        "50(1)(d)",
    }
    assert "41(2)(c)" in {g.key for g in grounds_for(Right.RESTRICTION)}
    assert ground_for(Right.ERASURE, "15(1)(e)").needs_reference
    assert not ground_for(Right.ACCESS, "33(b)").needs_reference
    with pytest.raises(UnknownGround):
        ground_for(Right.ACCESS, "41(2)(c)")  # a restriction ground, not an access one
    with pytest.raises(UnknownGround):
        ground_for(Right.RECTIFICATION, "because we said so")


def test_grounds_read_in_every_language() -> None:
    ground = GROUNDS["33(b)"]
    texts = {lang: ground.explanation_in(lang) for lang in ("id", "en", "fr")}
    assert len(set(texts.values())) == 3
    assert texts["en"] == "Granting it would reveal another person's personal data."


def test_the_gelato_academy_plan(example_manifests: tuple[LoadedManifest, ...]) -> None:
    gelato = next(m.manifest for m in example_manifests if "gelato" in m.manifest.organisation.slug)
    plan = plan_request(gelato, Right.ACCESS)
    assert plan.fulfilment is not None
    assert plan.fulfilment.calendar is Calendar.CLOCK
    assert plan.fulfilment.duration.approx_hours <= 72
    assert plan.deadline_record()["articles"]
    systems = {task.system for task in plan.tasks}
    assert systems == {
        s.id for s in gelato.systems if Right.ACCESS in s.instructions or s.categories
    }
    assert all(task.instructions.get("id") for task in plan.tasks)
    assert Right.ACCESS in offered_rights(gelato)
    assert Right.COMPENSATION not in offered_rights(gelato)  # a court matter, not a request
    assert identifiers(gelato)
