"""/admin/ (the organisation used last, or a chooser), the chooser itself with its search, and
each organisation's home: what needs attention, with charts drawn on the server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from jagadata.accounts.deps import CurrentUser, Member, now_of, require_role
from jagadata.accounts.roles import Action
from jagadata.accounts.service import OrganisationAccess
from jagadata.checks import Severity
from jagadata.console import consent_stats, findings, nav
from jagadata.console.charts import Bar, BarChart
from jagadata.console.health import chain_status, outbox_counts
from jagadata.console.render import DOMAIN, console_language, render
from jagadata.console.requests_views import BUCKET_LABELS, deadline_buckets
from jagadata.i18n import N_, gettext, ngettext
from jagadata.notify.models import OutboxStatus
from jagadata.orgs import service as orgs
from jagadata.orgs.models import ManifestVersion
from jagadata.ropa.service import states as dpia_states
from jagadata.web.deps import SessionDep

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Member, Depends(require_role(Action.VIEW_DASHBOARD))]
SearchQuery = Annotated[str | None, Query(max_length=100)]

SEVERITY_LABELS: Final = {
    Severity.ERROR: N_("Errors"),
    Severity.WARNING: N_("Warnings"),
    Severity.INFO: N_("For review"),
}
OUTBOX_LABELS: Final = {
    OutboxStatus.PENDING: N_("Waiting to be sent"),
    OutboxStatus.SENDING: N_("Being sent"),
    OutboxStatus.SENT: N_("Sent"),
    OutboxStatus.FAILED: N_("Failed, will be retried"),
    OutboxStatus.DEAD: N_("Undeliverable"),
}
CHAIN_BROKEN: Final = N_(
    "The audit trail is broken: it no longer proves what happened. Open the audit log to see where."
)


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, DOMAIN)


def _tn(lang: str, singular: str, plural: str, n: int) -> str:
    return ngettext(lang, singular, plural, n, DOMAIN)


@dataclass(frozen=True)
class Summary:
    """One organisation in the chooser: the person's role and what needs their attention."""

    access: OrganisationAccess
    version: ManifestVersion | None
    errors: int
    warnings: int
    undeliverable: int


def _summaries(session: Session, accesses: list[OrganisationAccess], lang: str) -> list[Summary]:
    summaries = []
    for access in accesses:
        version = orgs.current_version(session=session, organisation=access.organisation)
        result = findings.checked(version, lang) if version else None
        dead = outbox_counts(session=session, organisation_id=access.organisation.id)
        summaries.append(
            Summary(
                access,
                version,
                result.errors if result else 0,
                result.count(Severity.WARNING) if result else 0,
                dead[OutboxStatus.DEAD],
            )
        )
    return summaries


@router.get("/admin/")
def console_home(request: Request, session: SessionDep, signed_in: CurrentUser) -> Response:
    """The organisation the person used last; else the chooser."""
    accesses = nav.memberships(request, signed_in.user.id)
    last = nav.last_organisation(session=session, user_id=signed_in.user.id, accesses=accesses)
    if last is not None:
        root = request.scope.get("root_path", "")
        return RedirectResponse(
            f"{root}/admin/o/{last.organisation.slug}/",
            status_code=303,
            headers={"cache-control": "no-store"},
        )
    return _chooser(request, session, signed_in, accesses, query=None)


@router.get("/admin/organisations")
def organisations_page(
    request: Request, session: SessionDep, signed_in: CurrentUser, q: SearchQuery = None
) -> Response:
    """Every organisation of the person, with what needs attention in each; searchable."""
    accesses = nav.memberships(request, signed_in.user.id)
    return _chooser(request, session, signed_in, accesses, query=q)


def _chooser(
    request: Request,
    session: Session,
    signed_in: CurrentUser,
    accesses: list[OrganisationAccess],
    *,
    query: str | None,
) -> Response:
    lang = console_language(request)
    shown = nav.matching(accesses, query)
    target = request.headers.get("hx-target")
    if target == "switcher-list":
        return render(
            request,
            "console/organisations.html",
            signed_in=signed_in,
            context={"shown": shown, "query": query},
            fragment="console/_switcher_list.html",
        )
    return render(
        request,
        "console/organisations.html",
        signed_in=signed_in,
        context={
            "summaries": _summaries(session, shown, lang),
            "query": query or "",
            "total": len(accesses),
        },
        fragment="console/_organisation_list.html",
    )


@router.get("/admin/o/{org}/")
def dashboard(request: Request, session: SessionDep, member: Viewer) -> Response:
    """What needs attention in this organisation, with charts of the numbers behind it."""
    lang = console_language(request)
    organisation = member.organisation
    version = orgs.current_version(session=session, organisation=organisation)
    upcoming = orgs.upcoming_version(session=session, organisation=organisation)
    dpia = dpia_states(session=session)
    result = findings.checked(version, lang, dpia) if version else None
    counts = findings.by_severity(result.findings) if result else dict.fromkeys(Severity, 0)
    outbox = outbox_counts(session=session, organisation_id=organisation.id)
    chain = chain_status(request, session, organisation.id)
    findings_chart = BarChart(
        "findings-chart",
        _t(lang, "Findings of the manifest in force, by severity"),
        tuple(Bar(s.value, _t(lang, SEVERITY_LABELS[s]), counts[s]) for s in Severity),
    )
    outbox_chart = BarChart(
        "outbox-chart",
        _t(lang, "Messages in the outbox, by state"),
        tuple(Bar(s.value, _t(lang, OUTBOX_LABELS[s]), outbox[s]) for s in OutboxStatus),
    )
    consenting = consent_stats.consenting_now(
        session=session, organisation_id=organisation.id, now=now_of(request)
    )
    buckets = deadline_buckets(session, organisation.id, now_of(request))
    requests_chart = BarChart(
        "requests-chart",
        _t(lang, "Open requests, by deadline"),
        tuple(Bar(key, _t(lang, label), buckets[key]) for key, label in BUCKET_LABELS.items()),
    )
    attention = _attention(lang, counts, outbox, chain.result.broken is not None)
    if buckets["overdue"] and member.may(Action.HANDLE_REQUESTS):
        n = buckets["overdue"]
        message = _tn(
            lang,
            "{count} request is past its deadline.",
            "{count} requests are past their deadline.",
            n,
        )
        attention.insert(
            1 if chain.result.broken is not None else 0,
            Attention("error", message.format(count=n), "requests?overdue=1"),
        )
    return render(
        request,
        "console/dashboard.html",
        signed_in=member.signed_in,
        member=member,
        section="home",
        context={
            "version": version,
            "upcoming": upcoming,
            "checked": result,
            "languages": orgs.version_languages(session=session, version=version)
            if version
            else [],
            "findings_chart": findings_chart,
            "outbox_chart": outbox_chart,
            "consenting": consenting,
            "requests_chart": requests_chart,
            "may_handle": member.may(Action.HANDLE_REQUESTS),
            "chain": chain,
            "attention": attention,
            "may_audit": member.may(Action.VIEW_AUDIT_LOG),
        },
    )


@dataclass(frozen=True)
class Attention:
    """Something to look at: `level` is error, warning or info; `section` the page to open."""

    level: str
    message: str
    section: str


def _attention(
    lang: str, counts: dict[Severity, int], outbox: dict[OutboxStatus, int], broken: bool
) -> list[Attention]:
    items = []
    if broken:
        items.append(Attention("error", _t(lang, CHAIN_BROKEN), "audit"))
    if counts[Severity.ERROR]:
        n = counts[Severity.ERROR]
        message = _tn(
            lang,
            "The manifest in force has {count} error against UU PDP.",
            "The manifest in force has {count} errors against UU PDP.",
            n,
        )
        items.append(Attention("error", message.format(count=n), "manifest"))
    if outbox[OutboxStatus.DEAD]:
        n = outbox[OutboxStatus.DEAD]
        message = _tn(
            lang,
            "{count} message could not be delivered.",
            "{count} messages could not be delivered.",
            n,
        )
        items.append(Attention("error", message.format(count=n), "outbox"))
    if counts[Severity.WARNING]:
        n = counts[Severity.WARNING]
        message = _tn(
            lang,
            "The manifest in force has {count} warning.",
            "The manifest in force has {count} warnings.",
            n,
        )
        items.append(Attention("warning", message.format(count=n), "manifest"))
    if outbox[OutboxStatus.FAILED]:
        n = outbox[OutboxStatus.FAILED]
        message = _tn(
            lang,
            "{count} message failed and will be retried.",
            "{count} messages failed and will be retried.",
            n,
        )
        items.append(Attention("warning", message.format(count=n), "outbox"))
    return items
