"""An organisation's retention sweeps: the last runs with their counts per table, and what
the next daily sweep will look at — each table's rule, period and the moment its rows expire
— with the tables waiting for the consent ledger and the conflicts a person must decide."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from jagadata.accounts.deps import Member, require_role
from jagadata.accounts.roles import Action
from jagadata.console.render import console_language, render
from jagadata.i18n import gettext
from jagadata.retention.models import RetentionRun
from jagadata.retention.plan import DECIDE_HINT, conflicts_of, sweeps_of
from jagadata.rights.service import RequestProblem, manifest_in_force
from jagadata.web.deps import SessionDep

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Member, Depends(require_role(Action.VIEW_DASHBOARD))]

RUNS_SHOWN: Final = 20


def _r(lang: str, message: str, values: Any = None) -> str:
    """A sentence of the sweep (the `retention` catalogue), in the reader's language."""
    return gettext(lang, message, "retention").format(**(values or {}))


def _run_row(run: RetentionRun, lang: str) -> dict[str, Any]:
    report = run.report or {}
    tables = report.get("tables", [])
    return {
        "id": run.id,
        "status": run.status,
        "trigger": run.trigger,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "deleted": sum(t["done"] for t in tables if t["action"] == "delete"),
        "anonymised": sum(t["done"] for t in tables if t["action"] == "anonymise"),
        "skipped": sum(t["skipped"] for t in tables),
        "tables": [
            {
                **t,
                "reason_text": _r(lang, t["reason"]["message"], t["reason"]["values"])
                if t.get("reason")
                else "",
            }
            for t in tables
        ],
        "errors": [
            {**e, "note": _r(lang, e["note"]) if e.get("note") else ""}
            for e in report.get("errors", [])
        ],
    }


@router.get("/admin/o/{org}/retention")
def retention_page(request: Request, session: SessionDep, member: Viewer) -> Response:
    lang = console_language(request)
    organisation = member.organisation
    runs = session.scalars(
        select(RetentionRun)
        .where(RetentionRun.organisation_id == organisation.id)
        .order_by(RetentionRun.id.desc())
        .limit(RUNS_SHOWN)
    ).all()
    due: list[dict[str, Any]] = []
    waiting: list[dict[str, str]] = []
    conflicts: list[dict[str, str]] = []
    try:
        _, manifest = manifest_in_force(session, organisation)
    except RequestProblem:
        manifest = None
    if manifest is not None:
        sweeps, pending, _problems = sweeps_of(manifest, datetime.now(UTC))
        due = [
            {
                "table": f"{s.system}.{s.table.name}",
                "rule": s.rule.id,
                "period": str(s.rule.period),
                "since": s.since,
                "threshold": s.threshold,
                "action": s.action.value,
                "reason": _r(lang, s.reason, s.values) if s.reason else "",
                "legal_source": s.legal_source or "",
            }
            for s in sweeps
        ]
        waiting = [
            {"table": f"{w.system}.{w.table}", "message": _r(lang, w.message)} for w in pending
        ]
        conflicts = [
            {"where": c.where, "message": _r(lang, c.message, c.values)}
            for c in conflicts_of(manifest)
        ]
    return render(
        request,
        "console/retention.html",
        signed_in=member.signed_in,
        member=member,
        section="retention",
        context={
            "runs": [_run_row(run, lang) for run in runs],
            "due": due,
            "waiting": waiting,
            "conflicts": conflicts,
            "decide_hint": _r(lang, DECIDE_HINT),
            "has_manifest": manifest is not None,
        },
    )
