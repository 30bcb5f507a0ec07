"""High-risk processing: the DPIA of Art. 34 and the data protection officer of Art. 53."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from jagadata.checks.context import Context
from jagadata.checks.model import Hit, Severity, pasal, rule
from jagadata.i18n import N_, gettext
from jagadata.law.facts import DPIA_TRIGGERS, DPO_TRIGGERS, DpiaTrigger, DpoTrigger
from jagadata.ropa.states import DpiaState

WORKSPACE_STATES: Final = {
    DpiaState.DRAFT: N_("draft"),
    DpiaState.SUBMITTED: N_("submitted, awaiting sign-off"),
    DpiaState.SIGNED_OFF: N_("signed off"),
}


@rule(
    "PDP011",
    "specific-data-without-dpia",
    title=N_("Specific data processed without a DPIA"),
    severity=Severity.ERROR,
    articles=(pasal("34(1)"), pasal("34(2)(b)")),
    description=N_(
        "Processing specific personal data (Art. 4(2)) has a potentially high risk, so a data "
        "protection impact assessment is mandatory (Art. 34(1), 34(2)(b))."
    ),
    hint=N_(
        "Carry out the DPIA and record it under the purpose: 'dpia: {status: completed, "
        "completed_on: YYYY-MM-DD, reference: ...}'."
    ),
)
def specific_data_without_dpia(ctx: Context) -> Iterator[Hit]:
    for index, purpose in enumerate(ctx.manifest.purposes):
        if not ctx.has_dpia(purpose) and ctx.processes_specific(purpose):
            specific = sorted(ctx.specific_categories.intersection(purpose.categories))
            yield Hit(
                ("purposes", index),
                N_("Purpose '{purpose}' processes specific data ({categories}) without a DPIA."),
                {"purpose": purpose.id, "categories": ", ".join(specific)},
            )


@rule(
    "PDP012",
    "high-risk-without-dpia",
    title=N_("High-risk processing without a DPIA"),
    severity=Severity.ERROR,
    articles=(pasal("34(1)"), pasal("34(2)")),
    description=N_(
        "Automated decisions with significant effects, large-scale processing, evaluation, "
        "scoring or systematic monitoring, dataset matching, new technology and processing that "
        "limits rights all call for a DPIA (Art. 34(2)); jagadata derives some of these and reads "
        "the rest from 'high_risk'."
    ),
    hint=N_(
        "Carry out the DPIA and record it under the purpose: 'dpia: {status: completed, "
        "completed_on: YYYY-MM-DD, reference: ...}'."
    ),
)
def high_risk_without_dpia(ctx: Context) -> Iterator[Hit]:
    for index, purpose in enumerate(ctx.manifest.purposes):
        if ctx.has_dpia(purpose) or ctx.processes_specific(purpose):
            continue  # specific data is PDP011's finding
        triggers = ctx.dpia_triggers(purpose)
        if triggers:
            yield Hit(
                ("purposes", index),
                N_("Purpose '{purpose}' needs a DPIA ({triggers}) but has none."),
                {"purpose": purpose.id, "triggers": _trigger_labels(triggers, ctx.lang)},
                articles=(pasal("34(1)"), *(DPIA_TRIGGERS[t][0] for t in triggers)),
            )


@rule(
    "PDP013",
    "dpia-not-completed",
    title=N_("DPIA not completed"),
    severity=Severity.WARNING,
    articles=(pasal("34(1)"),),
    description=N_(
        "A DPIA is done before the processing starts; one that is not started or still in "
        "progress does not yet meet Art. 34(1). When the check reads the organisation's DPIA "
        "workspace in jagadata, an assessment there counts as done only once the data "
        "protection officer has signed it off, whatever the manifest says."
    ),
    hint=N_(
        "Finish the assessment, then set 'status: completed' and 'completed_on:' with its date."
    ),
)
def dpia_not_completed(ctx: Context) -> Iterator[Hit]:
    for index, purpose in enumerate(ctx.manifest.purposes):
        if not ctx.has_dpia(purpose) or ctx.dpia_done(purpose):
            continue
        state = ctx.dpia_states.get(purpose.id)
        if state is not None:
            yield Hit(
                ("purposes", index),
                N_(
                    "The DPIA of purpose '{purpose}' in the workspace is not signed off by the "
                    "data protection officer ({state})."
                ),
                {"purpose": purpose.id, "state": ctx.t(WORKSPACE_STATES[state])},
                hint=N_(
                    "Complete the assessment in the console (DPIA page), submit it, and have the "
                    "data protection officer sign it off."
                ),
            )
        elif purpose.dpia is not None:
            yield Hit(
                ("purposes", index, "dpia", "status"),
                N_("The DPIA of purpose '{purpose}' is not completed ({status})."),
                {"purpose": purpose.id, "status": purpose.dpia.status.value},
            )


@rule(
    "PDP014",
    "large-scale-dpia-review",
    title=N_("Large-scale organisation: purposes to assess"),
    severity=Severity.WARNING,
    articles=(pasal("34(1)"), pasal("34(2)(c)")),
    description=N_(
        "Large-scale processing calls for a DPIA (Art. 34(2)(c)). The organisation declares "
        "large-scale core activities; jagadata cannot tell which purposes are large scale, so it "
        "lists those without a DPIA for a person to decide."
    ),
    hint=N_(
        "For each purpose that is itself large scale, add 'high_risk: [large_scale]' and record "
        "its DPIA; the others need nothing."
    ),
)
def large_scale_dpia_review(ctx: Context) -> Iterator[Hit]:
    if not ctx.manifest.organisation.large_scale:
        return
    unassessed = [
        p.id for p in ctx.manifest.purposes if not ctx.has_dpia(p) and not ctx.dpia_triggers(p)
    ]
    if unassessed:
        yield Hit(
            ("organisation", "large_scale"),
            N_(
                "The organisation processes data on a large scale; these purposes have no DPIA: "
                "{purposes}."
            ),
            {"purposes": ", ".join(unassessed)},
        )


@rule(
    "PDP015",
    "dpo-missing",
    title=N_("Data protection officer required but not appointed"),
    severity=Severity.ERROR,
    articles=(pasal("53(1)"),),
    description=N_(
        "A controller must appoint an officer for personal data protection when it processes for "
        "public services, or its core activities are large-scale systematic monitoring or "
        "large-scale processing of specific data (Art. 53(1)(a)-(c))."
    ),
    hint=N_(
        "Appoint the officer and add 'organisation: dpo: {name: ..., email: ...}'; the officer "
        "may come from outside the organisation (Art. 53(3))."
    ),
)
def dpo_missing(ctx: Context) -> Iterator[Hit]:
    organisation = ctx.manifest.organisation
    if organisation.dpo is not None:
        return
    reasons: list[DpoTrigger] = []
    if organisation.public_service:
        reasons.append(DpoTrigger.PUBLIC_SERVICE)
    if organisation.large_scale:
        purposes = ctx.manifest.purposes
        if any(DpiaTrigger.EVALUATION_SCORING_MONITORING in ctx.dpia_triggers(p) for p in purposes):
            reasons.append(DpoTrigger.LARGE_SCALE_MONITORING)
        if ctx.specific_categories & ctx.used_categories:
            reasons.append(DpoTrigger.LARGE_SCALE_SPECIFIC)
    if reasons:
        yield Hit(
            ("organisation", "dpo"),
            N_("A data protection officer is required ({reasons}) but none is named."),
            {"reasons": "; ".join(gettext(ctx.lang, DPO_TRIGGERS[r][1]) for r in reasons)},
            articles=tuple(DPO_TRIGGERS[r][0] for r in reasons),
        )


def _trigger_labels(triggers: list[DpiaTrigger], lang: str) -> str:
    return "; ".join(gettext(lang, DPIA_TRIGGERS[t][1]) for t in triggers)
