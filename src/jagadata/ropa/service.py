"""The DPIA workspace (Art. 34 UU PDP): draft an assessment, submit it, have the officer sign it.

Each function is one step in the caller's transaction, and writes its audit entry there: the
step and its record commit or roll back together. A change to a submitted or signed-off
assessment sends it back to draft, so a sign-off always covers the text as it was signed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.accounts.roles import Role
from jagadata.audit.service import Actor, record
from jagadata.i18n import N_, gettext
from jagadata.ropa.models import DpiaAssessment, DpiaRisk
from jagadata.ropa.states import DpiaState, DpiaSummary, risk_level

LEVEL_ORDER: Final = ("low", "medium", "high")
CONTEXT_MAX: Final = 8000
RISK_TEXT_MAX: Final = 4000
RISKS_MAX: Final = 50


class DpiaRefused(ValueError):
    """A step the workspace does not allow; `message` is a `ropa` msgid, `values` its fields."""

    def __init__(self, message: str, **values: Any) -> None:
        super().__init__(message.format(**values))
        self.message = message
        self.values = values

    def describe(self, lang: str) -> str:
        return gettext(lang, self.message, "ropa").format(**self.values)


@dataclass(frozen=True, slots=True)
class RiskInput:
    """One risk as the assessor writes it; likelihood and severity on a scale of 1 to 3."""

    description: str
    likelihood: int
    severity: int
    measures: str
    residual_likelihood: int
    residual_severity: int


def assessment_of(*, session: Session, purpose_id: str) -> DpiaAssessment | None:
    """The assessment of a purpose in the session's organisation, if one was started."""
    return session.scalars(
        select(DpiaAssessment).where(DpiaAssessment.purpose_id == purpose_id)
    ).one_or_none()


def assessments(*, session: Session) -> dict[str, DpiaAssessment]:
    """Every assessment of the session's organisation, by purpose id."""
    return {a.purpose_id: a for a in session.scalars(select(DpiaAssessment))}


def states(*, session: Session) -> dict[str, DpiaState]:
    """Where each purpose's assessment stands: what `jagadata check --org` gives the linter."""
    return {purpose: DpiaState(a.state) for purpose, a in assessments(session=session).items()}


def summaries(*, session: Session) -> dict[str, DpiaSummary]:
    """What the record of processing shows of each assessment."""
    return {
        purpose: DpiaSummary(DpiaState(a.state), a.residual_level, a.signed_off_at)
        for purpose, a in assessments(session=session).items()
    }


def start(
    *, session: Session, organisation_id: int, purpose_id: str, actor: Actor
) -> DpiaAssessment:
    """A new draft for a purpose; refused if the purpose already has one."""
    if assessment_of(session=session, purpose_id=purpose_id) is not None:
        raise DpiaRefused(
            N_("Purpose “{purpose}” already has an assessment; open it to continue."),
            purpose=purpose_id,
        )
    now = datetime.now(UTC)
    assessment = DpiaAssessment(
        organisation_id=organisation_id,
        purpose_id=purpose_id,
        state=DpiaState.DRAFT.value,
        context="",
        residual_level=None,
        created_at=now,
        updated_at=now,
    )
    session.add(assessment)
    session.flush()
    _audit(session, assessment, actor, "dpia.started")
    return assessment


def save(
    *,
    session: Session,
    assessment: DpiaAssessment,
    context: str,
    risks: Sequence[RiskInput],
    actor: Actor,
) -> DpiaAssessment:
    """Replace the assessment's text and risks; a submitted or signed-off one returns to draft."""
    context = context.strip()
    if len(context) > CONTEXT_MAX:
        raise DpiaRefused(
            N_("The description of the processing is longer than {limit} characters."),
            limit=CONTEXT_MAX,
        )
    if len(risks) > RISKS_MAX:
        raise DpiaRefused(N_("An assessment holds at most {limit} risks."), limit=RISKS_MAX)
    for number, risk in enumerate(risks, start=1):
        _check_risk(risk, number)
    reopened = assessment.state != DpiaState.DRAFT.value
    assessment.context = context
    assessment.risks.clear()
    session.flush()
    for position, risk in enumerate(risks, start=1):
        assessment.risks.append(
            DpiaRisk(
                organisation_id=assessment.organisation_id,
                position=position,
                description=risk.description.strip(),
                likelihood=risk.likelihood,
                severity=risk.severity,
                measures=risk.measures.strip(),
                residual_likelihood=risk.residual_likelihood,
                residual_severity=risk.residual_severity,
            )
        )
    assessment.residual_level = overall_residual(risks)
    assessment.state = DpiaState.DRAFT.value
    assessment.submitted_at = None
    assessment.signed_off_at = None
    assessment.signed_off_by = None
    assessment.updated_at = datetime.now(UTC)
    session.flush()
    _audit(
        session,
        assessment,
        actor,
        "dpia.updated",
        risks=len(risks),
        residual=assessment.residual_level,
        reopened=reopened,
    )
    return assessment


def submit(*, session: Session, assessment: DpiaAssessment, actor: Actor) -> DpiaAssessment:
    """Send a complete draft to the data protection officer for sign-off."""
    if assessment.state != DpiaState.DRAFT.value:
        raise DpiaRefused(N_("Only a draft can be submitted; this assessment is not one."))
    if not assessment.context:
        raise DpiaRefused(N_("Describe the processing before submitting the assessment."))
    if not assessment.risks:
        raise DpiaRefused(N_("List at least one risk, with its measures, before submitting."))
    assessment.state = DpiaState.SUBMITTED.value
    assessment.submitted_at = datetime.now(UTC)
    assessment.updated_at = assessment.submitted_at
    session.flush()
    _audit(session, assessment, actor, "dpia.submitted", residual=assessment.residual_level)
    return assessment


def sign_off(
    *,
    session: Session,
    assessment: DpiaAssessment,
    role: Role,
    user_id: int,
    actor: Actor,
) -> DpiaAssessment:
    """The data protection officer signs a submitted assessment off (Art. 34(1), 54(1)(c))."""
    if role is not Role.DPO:
        raise DpiaRefused(N_("Only the data protection officer may sign an assessment off."))
    if assessment.state != DpiaState.SUBMITTED.value:
        raise DpiaRefused(N_("Only a submitted assessment can be signed off."))
    now = datetime.now(UTC)
    assessment.state = DpiaState.SIGNED_OFF.value
    assessment.signed_off_at = now
    assessment.signed_off_by = user_id
    assessment.updated_at = now
    session.flush()
    _audit(session, assessment, actor, "dpia.signed_off", residual=assessment.residual_level)
    return assessment


def send_back(
    *, session: Session, assessment: DpiaAssessment, role: Role, actor: Actor, reason: str
) -> DpiaAssessment:
    """The officer returns a submitted assessment to draft, saying what is missing."""
    if role is not Role.DPO:
        raise DpiaRefused(N_("Only the data protection officer may send an assessment back."))
    if assessment.state != DpiaState.SUBMITTED.value:
        raise DpiaRefused(N_("Only a submitted assessment can be sent back."))
    reason = reason.strip()
    if not reason:
        raise DpiaRefused(N_("Say what the assessment is missing when you send it back."))
    assessment.state = DpiaState.DRAFT.value
    assessment.submitted_at = None
    assessment.updated_at = datetime.now(UTC)
    session.flush()
    _audit(session, assessment, actor, "dpia.sent_back", reason=reason[:RISK_TEXT_MAX])
    return assessment


def overall_residual(risks: Sequence[RiskInput | DpiaRisk]) -> str | None:
    """The highest residual level of the risks: the risk that remains is the worst that remains."""
    levels = [risk_level(r.residual_likelihood, r.residual_severity) for r in risks]
    return max(levels, key=LEVEL_ORDER.index) if levels else None


def _check_risk(risk: RiskInput, number: int) -> None:
    if not risk.description.strip():
        raise DpiaRefused(N_("Risk {number} has no description."), number=number)
    if not risk.measures.strip():
        raise DpiaRefused(
            N_("Risk {number} has no measures: say what reduces it, or why nothing can."),
            number=number,
        )
    if len(risk.description) > RISK_TEXT_MAX or len(risk.measures) > RISK_TEXT_MAX:
        raise DpiaRefused(
            N_("Risk {number} is longer than {limit} characters."),
            number=number,
            limit=RISK_TEXT_MAX,
        )
    scores = (
        risk.likelihood,
        risk.severity,
        risk.residual_likelihood,
        risk.residual_severity,
    )
    if any(score not in (1, 2, 3) for score in scores):
        raise DpiaRefused(
            N_("Risk {number}: likelihood and severity are 1 (low), 2 (medium) or 3 (high)."),
            number=number,
        )


def _audit(
    session: Session, assessment: DpiaAssessment, actor: Actor, action: str, **details: Any
) -> None:
    record(
        session=session,
        organisation_id=assessment.organisation_id,
        actor=actor,
        action=action,
        target_type="dpia",
        target_id=assessment.id,
        details={"purpose": assessment.purpose_id, "state": assessment.state, **details},
    )
