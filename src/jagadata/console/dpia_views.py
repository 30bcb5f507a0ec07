"""The DPIA workspace in the console (Art. 34 UU PDP): the purposes that need an impact
assessment and where each stands, the assessment's page (the processing described, its risks
before and after their measures), submission, and the data protection officer's sign-off.

The list shows the linter's DPIA findings with the workspace read (PDP011-PDP013), so a signed-off
assessment counts as done and a draft is reported, as `jagadata check --org` does. Owners and
officers edit (the manifest's editors); only a member with the officer's role signs off or sends
an assessment back. Every step is audited by `ropa.service`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from jagadata.accounts.deps import Member, require_role
from jagadata.accounts.models import User
from jagadata.accounts.roles import Action, Role
from jagadata.audit.service import Actor
from jagadata.checks import run_checks
from jagadata.checks.context import Context
from jagadata.checks.model import Finding
from jagadata.console.render import console_language, render
from jagadata.db import atomic
from jagadata.i18n import N_, gettext
from jagadata.law.facts import DPIA_TRIGGERS
from jagadata.manifest.errors import ManifestInvalid
from jagadata.manifest.loader import LoadedManifest, load_manifest_text
from jagadata.manifest.schema import Purpose
from jagadata.orgs import service as orgs
from jagadata.policy.words import text
from jagadata.ropa import service as dpia
from jagadata.ropa.models import DpiaAssessment
from jagadata.ropa.service import CONTEXT_MAX, RISK_TEXT_MAX, DpiaRefused, RiskInput
from jagadata.ropa.states import (
    NOT_STARTED,
    RISK_LEVELS,
    STATE_LABELS,
    DpiaState,
    risk_level,
)
from jagadata.web.deps import SessionDep

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Member, Depends(require_role(Action.VIEW_DASHBOARD))]
Editor = Annotated[Member, Depends(require_role(Action.EDIT_MANIFEST))]

DPIA_RULES: Final = ("PDP011", "PDP012", "PDP013")
BLANK_ROWS: Final = 2
SCALE: Final = {1: N_("1 — low"), 2: N_("2 — medium"), 3: N_("3 — high")}
REASON_MAX: Final = 1000


@dataclass(frozen=True, slots=True)
class PurposeRow:
    """A purpose in the list: why it needs an assessment and where its assessment stands."""

    id: str
    name: str
    triggers: tuple[str, ...]
    manifest_status: str | None
    state: str | None
    state_label: str
    residual: str


@dataclass(frozen=True, slots=True)
class RiskRow:
    description: str = ""
    likelihood: int = 2
    severity: int = 2
    measures: str = ""
    residual_likelihood: int = 1
    residual_severity: int = 1

    @property
    def before(self) -> str:
        return risk_level(self.likelihood, self.severity)

    @property
    def after(self) -> str:
        return risk_level(self.residual_likelihood, self.residual_severity)


def _ropa(lang: str, message: str) -> str:
    """A word of the record of processing's own catalogue (states, risk levels)."""
    return gettext(lang, message, "ropa")


def _manifest(session: Session, member: Member) -> LoadedManifest:
    version = orgs.latest_version(session=session, organisation=member.organisation)
    if version is None:
        raise HTTPException(status_code=404)
    try:
        return load_manifest_text(version.yaml_text)
    except ManifestInvalid:
        raise HTTPException(status_code=404) from None


def _needs_assessment(ctx: Context, purpose: Purpose, started: bool) -> bool:
    return started or purpose.dpia is not None or bool(ctx.dpia_triggers(purpose))


def _rows(loaded: LoadedManifest, found: dict[str, DpiaAssessment], lang: str) -> list[PurposeRow]:
    ctx = Context(loaded, lang)
    rows = []
    for purpose in loaded.manifest.purposes:
        assessment = found.get(purpose.id)
        if not _needs_assessment(ctx, purpose, assessment is not None):
            continue
        rows.append(
            PurposeRow(
                id=purpose.id,
                name=text(purpose.name, lang),
                triggers=tuple(
                    f"{gettext(lang, DPIA_TRIGGERS[t][1])} ({DPIA_TRIGGERS[t][0].cite(lang)})"
                    for t in ctx.dpia_triggers(purpose)
                ),
                manifest_status=purpose.dpia.status.value if purpose.dpia else None,
                state=assessment.state if assessment else None,
                state_label=_ropa(lang, STATE_LABELS[DpiaState(assessment.state)])
                if assessment
                else _ropa(lang, NOT_STARTED),
                residual=_ropa(lang, RISK_LEVELS[assessment.residual_level])
                if assessment and assessment.residual_level
                else "",
            )
        )
    return rows


def _findings(loaded: LoadedManifest, session: Session, lang: str) -> list[Finding]:
    return run_checks(
        loaded, lang=lang, select=DPIA_RULES, dpia_states=dpia.states(session=session)
    )


@router.get("/admin/o/{org}/dpia")
def dpia_list(request: Request, session: SessionDep, member: Viewer) -> Response:
    """The purposes that need a DPIA (Art. 34(2)) and where each assessment stands."""
    lang = console_language(request)
    loaded = _manifest(session, member)
    found = dpia.assessments(session=session)
    return render(
        request,
        "console/dpia.html",
        signed_in=member.signed_in,
        member=member,
        section="dpia",
        context={
            "rows": _rows(loaded, found, lang),
            "findings": _findings(loaded, session, lang),
            "may_edit": member.may(Action.EDIT_MANIFEST),
        },
    )


def _purpose(loaded: LoadedManifest, purpose_id: str) -> Purpose:
    purpose = loaded.manifest.purpose(purpose_id)
    if purpose is None:
        raise HTTPException(status_code=404)
    return purpose


def _page(
    request: Request,
    session: Session,
    member: Member,
    purpose_id: str,
    *,
    context_text: str | None = None,
    risks: list[RiskRow] | None = None,
    problem: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    lang = console_language(request)
    loaded = _manifest(session, member)
    purpose = _purpose(loaded, purpose_id)
    assessment = dpia.assessment_of(session=session, purpose_id=purpose_id)
    if risks is None:
        risks = [
            RiskRow(
                r.description,
                r.likelihood,
                r.severity,
                r.measures,
                r.residual_likelihood,
                r.residual_severity,
            )
            for r in (assessment.risks if assessment else [])
        ]
    signer = (
        session.get(User, assessment.signed_off_by)
        if assessment and assessment.signed_off_by
        else None
    )
    row = _rows(loaded, {purpose_id: assessment} if assessment else {}, lang)
    return render(
        request,
        "console/dpia_edit.html",
        signed_in=member.signed_in,
        member=member,
        section="dpia",
        status_code=status_code,
        context={
            "purpose": purpose,
            "purpose_name": text(purpose.name, lang),
            "purpose_description": text(purpose.description, lang),
            "summary": row[0] if row else None,
            "assessment": assessment,
            "context_text": context_text
            if context_text is not None
            else (assessment.context if assessment else ""),
            "risks": [*risks, *(RiskRow() for _ in range(BLANK_ROWS))],
            "scale": SCALE,
            "levels": {key: _ropa(lang, label) for key, label in RISK_LEVELS.items()},
            "signer": signer.display_name or signer.email if signer else None,
            "may_edit": member.may(Action.EDIT_MANIFEST),
            "is_officer": member.role is Role.DPO,
            "problem": problem,
            "notice": notice,
            "context_max": CONTEXT_MAX,
            "risk_max": RISK_TEXT_MAX,
        },
    )


@router.get("/admin/o/{org}/dpia/{purpose_id}")
def dpia_page(purpose_id: str, request: Request, session: SessionDep, member: Viewer) -> Response:
    return _page(request, session, member, purpose_id)


def _form_risks(
    description: list[str],
    likelihood: list[int],
    severity: list[int],
    measures: list[str],
    residual_likelihood: list[int],
    residual_severity: list[int],
) -> list[RiskRow]:
    """The rows of the form that say something; a row left blank is dropped."""
    columns = (
        description,
        likelihood,
        severity,
        measures,
        residual_likelihood,
        residual_severity,
    )
    if len({len(column) for column in columns}) != 1:
        raise HTTPException(status_code=422)
    return [
        RiskRow(d, lk, sv, m, rl, rs)
        for d, lk, sv, m, rl, rs in zip(*columns, strict=True)
        if d.strip() or m.strip()
    ]


Texts = Annotated[list[str] | None, Form()]
Scores = Annotated[list[int] | None, Form()]


@router.post("/admin/o/{org}/dpia/{purpose_id}")
def save_dpia(
    purpose_id: str,
    request: Request,
    session: SessionDep,
    member: Editor,
    context: Annotated[str, Form(max_length=CONTEXT_MAX)] = "",
    description: Texts = None,
    likelihood: Scores = None,
    severity: Scores = None,
    measures: Texts = None,
    residual_likelihood: Scores = None,
    residual_severity: Scores = None,
) -> Response:
    """Save the assessment as a draft; started here the first time it is saved."""
    lang = console_language(request)
    _purpose(_manifest(session, member), purpose_id)
    rows = _form_risks(
        description or [],
        likelihood or [],
        severity or [],
        measures or [],
        residual_likelihood or [],
        residual_severity or [],
    )
    actor = Actor.user(member.user.id)
    try:
        with atomic(session):
            assessment = dpia.assessment_of(session=session, purpose_id=purpose_id)
            if assessment is None:
                assessment = dpia.start(
                    session=session,
                    organisation_id=member.organisation.id,
                    purpose_id=purpose_id,
                    actor=actor,
                )
            dpia.save(
                session=session,
                assessment=assessment,
                context=context,
                risks=[_risk_input(row) for row in rows],
                actor=actor,
            )
    except DpiaRefused as refused:
        return _page(
            request,
            session,
            member,
            purpose_id,
            context_text=context,
            risks=rows,
            problem=refused.describe(lang),
            status_code=422,
        )
    return _back(request, member, purpose_id)


def _risk_input(row: RiskRow) -> RiskInput:
    return RiskInput(
        description=row.description,
        likelihood=row.likelihood,
        severity=row.severity,
        measures=row.measures,
        residual_likelihood=row.residual_likelihood,
        residual_severity=row.residual_severity,
    )


def _existing(session: Session, purpose_id: str) -> DpiaAssessment:
    assessment = dpia.assessment_of(session=session, purpose_id=purpose_id)
    if assessment is None:
        raise HTTPException(status_code=404)
    return assessment


@router.post("/admin/o/{org}/dpia/{purpose_id}/submit")
def submit_dpia(purpose_id: str, request: Request, session: SessionDep, member: Editor) -> Response:
    """Send the draft to the data protection officer."""
    assessment = _existing(session, purpose_id)
    try:
        with atomic(session):
            dpia.submit(session=session, assessment=assessment, actor=Actor.user(member.user.id))
    except DpiaRefused as refused:
        return _refused(request, session, member, purpose_id, refused)
    return _back(request, member, purpose_id)


@router.post("/admin/o/{org}/dpia/{purpose_id}/sign-off")
def sign_off_dpia(
    purpose_id: str, request: Request, session: SessionDep, member: Viewer
) -> Response:
    """The officer signs the submitted assessment off (Art. 34(1), 54(1)(c))."""
    if member.role is not Role.DPO:
        raise HTTPException(status_code=403)
    assessment = _existing(session, purpose_id)
    try:
        with atomic(session):
            dpia.sign_off(
                session=session,
                assessment=assessment,
                role=member.role,
                user_id=member.user.id,
                actor=Actor.user(member.user.id),
            )
    except DpiaRefused as refused:
        return _refused(request, session, member, purpose_id, refused)
    return _back(request, member, purpose_id)


@router.post("/admin/o/{org}/dpia/{purpose_id}/send-back")
def send_back_dpia(
    purpose_id: str,
    request: Request,
    session: SessionDep,
    member: Viewer,
    reason: Annotated[str, Form(max_length=REASON_MAX)] = "",
) -> Response:
    """The officer returns the assessment to draft with what it is missing."""
    if member.role is not Role.DPO:
        raise HTTPException(status_code=403)
    assessment = _existing(session, purpose_id)
    try:
        with atomic(session):
            dpia.send_back(
                session=session,
                assessment=assessment,
                role=member.role,
                actor=Actor.user(member.user.id),
                reason=reason,
            )
    except DpiaRefused as refused:
        return _refused(request, session, member, purpose_id, refused)
    return _back(request, member, purpose_id)


def _refused(
    request: Request, session: Session, member: Member, purpose_id: str, refused: DpiaRefused
) -> Response:
    lang = console_language(request)
    return _page(
        request, session, member, purpose_id, problem=refused.describe(lang), status_code=422
    )


def _back(request: Request, member: Member, purpose_id: str) -> Response:
    root = request.scope.get("root_path", "")
    return RedirectResponse(
        f"{root}/admin/o/{member.organisation.slug}/dpia/{purpose_id}", status_code=303
    )
