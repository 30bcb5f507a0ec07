"""Requests that reach the organisation outside the privacy centre (WhatsApp, email, a letter),
filed by staff with the moment they actually arrived (the clock counts from there, Art. 14 and
30-41 UU PDP), and the share of requests answered on time per right and month.

Registered before `requests_views` so that `/requests/new` and `/requests/sla` are not read as
a request's reference.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final

from babel.dates import format_date
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from jagadata.accounts.deps import Member, now_of, require_role, settings_of
from jagadata.accounts.roles import Action
from jagadata.console.charts import ColumnChart, Group, Series
from jagadata.console.render import console_language, render
from jagadata.console.requests_views import (
    ON_BEHALF_LABELS,
    _actor,
    _base,
    _problem,
    _t,
    _upload,
    right_label,
)
from jagadata.db import atomic
from jagadata.i18n import N_
from jagadata.law.facts import Right
from jagadata.rights import service, staff
from jagadata.rights.clock import zone_label, zone_of
from jagadata.rights.messages import send_code
from jagadata.rights.models import RequestEvent, RightsRequest
from jagadata.rights.plan import identifiers, offered_rights
from jagadata.rights.service import RequestProblem
from jagadata.rights.states import EventKind, OnBehalf
from jagadata.web.deps import SessionDep

router = APIRouter(include_in_schema=False)

Handler = Annotated[Member, Depends(require_role(Action.HANDLE_REQUESTS))]
Field = Annotated[str, Form(max_length=320)]
Long = Annotated[str, Form(max_length=4000)]

SLA_MONTHS: Final = 12
LANGUAGES: Final = {"id": "Bahasa Indonesia", "en": "English", "fr": "Français"}
SLA_SERIES: Final = (("on_time", N_("On time")), ("late", N_("Late")))


def _form_context(
    request: Request, session: SessionDep, member: Member, values: dict[str, Any]
) -> dict[str, Any]:
    lang = console_language(request)
    try:
        _, manifest = service.manifest_in_force(session, member.organisation)
        rights = [(r.value, right_label(r.value, lang)) for r in offered_rights(manifest)]
        kinds = [(i.id, f"{i.id} ({i.kind.value})") for i in identifiers(manifest)]
        zone = zone_of(manifest.organisation.timezone)
    except RequestProblem:
        rights, kinds, zone = [], [], zone_of("WIB")
    return {
        "rights": rights,
        "identifiers": kinds,
        "zone": zone_label(zone),
        "languages": LANGUAGES,
        "on_behalf": [(k.value, _t(lang, label)) for k, label in ON_BEHALF_LABELS.items()],
        "values": values,
        "base": _base(request, member),
    }


def _page(
    request: Request,
    session: SessionDep,
    member: Member,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = _form_context(request, session, member, values)
    return render(
        request,
        "console/request_new.html",
        signed_in=member.signed_in,
        member=member,
        section="requests",
        status_code=status_code,
        context={**context, "errors": errors or {}},
    )


@router.get("/admin/o/{org}/requests/new")
def intake_form(request: Request, session: SessionDep, member: Handler) -> Response:
    """The form for a request received by WhatsApp, email or letter."""
    zone = zone_of(_form_context(request, session, member, {})["zone"])
    now = now_of(request).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    return _page(request, session, member, {"received_at": now, "language": "id"})


@router.post("/admin/o/{org}/requests/new")
def intake(
    request: Request,
    session: SessionDep,
    member: Handler,
    right: Annotated[str, Form(max_length=32)] = "",
    identifier: Annotated[str, Form(max_length=63)] = "",
    value: Field = "",
    language: Annotated[str, Form(max_length=5)] = "id",
    received_at: Annotated[str, Form(max_length=20)] = "",
    details: Long = "",
    verify: Annotated[str, Form(max_length=3)] = "",
    verify_reason: Long = "",
    on_behalf: Annotated[str, Form(max_length=16)] = "",
    representative: Field = "",
    original: Annotated[UploadFile | None, File()] = None,
    proof: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """File the request on the person's behalf (channel staff), its original kept; the clock
    counts from when it arrived."""
    lang = console_language(request)
    values = {
        "right": right,
        "identifier": identifier,
        "value": value,
        "language": language if language in LANGUAGES else "id",
        "received_at": received_at,
        "details": details,
        "verify": verify == "1",
        "verify_reason": verify_reason,
        "on_behalf": on_behalf,
        "representative": representative,
    }
    context = _form_context(request, session, member, values)
    zone = zone_of(context["zone"])
    errors: dict[str, str] = {}
    arrived: datetime | None = None
    try:
        arrived = datetime.fromisoformat(received_at).replace(tzinfo=zone).astimezone(UTC)
    except ValueError:
        errors["received_at"] = _t(lang, "Give the date and time the request arrived.")
    original_upload = _upload(original)
    if original_upload is None:
        errors["original"] = _problem(lang, RequestProblem("original", ""))
    behalf: OnBehalf | None = None
    if on_behalf:
        try:
            behalf = OnBehalf(on_behalf)
        except ValueError:
            errors["on_behalf"] = _problem(lang, RequestProblem("authority", ""))
        if not representative.strip():
            errors["representative"] = _problem(lang, RequestProblem("authority", ""))
    proof_upload = _upload(proof)
    if verify == "1" and not verify_reason.strip():
        errors["verify_reason"] = _problem(lang, RequestProblem("reason", ""))
    if errors or arrived is None or original_upload is None:
        return _page(request, session, member, values, errors, 400)
    try:
        with atomic(session):
            filed = staff.file_for_person(
                session=session,
                organisation=member.organisation,
                right=right,
                identifier=identifier,
                value=value,
                received_at=arrived,
                original=original_upload,
                actor=_actor(member),
                user_id=member.user.id,
                language=language if language in LANGUAGES else "id",
                details={"message": details.strip()} if details.strip() else None,
                on_behalf=behalf,
                authority={"representative": representative.strip()} if behalf else None,
                proof=proof_upload,
                verify_reason=verify_reason.strip() if verify == "1" else None,
                now=now_of(request),
            )
            if filed.code is not None and filed.link_token is not None:
                base = settings_of(request).base_url.rstrip("/")
                slug = member.organisation.slug
                send_code(
                    session,
                    filed.request,
                    organisation_name=member.organisation.name,
                    code=filed.code,
                    link=f"{base}/o/{slug}/requests/link/{filed.link_token}",
                )
    except RequestProblem as problem:
        field = problem.field if problem.field != "file" else "original"
        return _page(request, session, member, values, {field: _problem(lang, problem)}, 400)
    return RedirectResponse(
        f"{_base(request, member)}/{filed.request.reference}?done=filed", status_code=303
    )


# --- on time, per right and month -------------------------------------------------------------


def _month(day: date) -> date:
    return day.replace(day=1)


def _months(last: date, count: int) -> list[date]:
    months = [_month(last)]
    while len(months) < count:
        first = months[0]
        previous = (
            date(first.year - 1, 12, 1)
            if first.month == 1
            else first.replace(month=first.month - 1)
        )
        months.insert(0, previous)
    return months


def sla_figures(
    session: SessionDep, organisation_id: int, zone: str, now: datetime
) -> dict[str, dict[date, Counter[str]]]:
    """Closed requests answered on time and late, per right and month of closing (on the
    organisation's calendar), from the fulfilled and refused entries' `on_time`."""
    tz = zone_of(zone)
    figures: dict[str, dict[date, Counter[str]]] = {}
    rows = session.execute(
        select(RequestEvent, RightsRequest.right)
        .join(RightsRequest, RightsRequest.id == RequestEvent.request_id)
        .where(
            RequestEvent.organisation_id == organisation_id,
            RequestEvent.kind.in_([EventKind.FULFILLED.value, EventKind.REFUSED.value]),
        )
    ).all()
    for event, right in rows:
        on_time = (event.data or {}).get("on_time")
        if on_time is None:
            continue
        month = _month(event.at.astimezone(tz).date())
        figures.setdefault(right, {}).setdefault(month, Counter())[
            "on_time" if on_time else "late"
        ] += 1
    return figures


@router.get("/admin/o/{org}/requests/sla")
def sla(request: Request, session: SessionDep, member: Handler) -> Response:
    """On time and late per right and month, as charts with their numbers as tables."""
    lang = console_language(request)
    now = now_of(request)
    zone = _form_context(request, session, member, {})["zone"]
    figures = sla_figures(session, member.organisation.id, zone, now)
    months = _months(now.astimezone(zone_of(zone)).date(), SLA_MONTHS)
    series = tuple(Series(key, _t(lang, label)) for key, label in SLA_SERIES)
    charts = []
    for right in Right:
        per_month = figures.get(right.value)
        if not per_month:
            continue
        groups = tuple(
            Group(
                month.isoformat(),
                format_date(month, format="MMM yy", locale=lang),
                tuple(per_month.get(month, Counter())[key] for key, _ in SLA_SERIES),
            )
            for month in months
        )
        title = _t(lang, "{right}: answered on time and late, per month").format(
            right=right_label(right.value, lang)
        )
        charts.append(ColumnChart(f"sla-{right.value}", title, series, groups))
    return render(
        request,
        "console/requests_sla.html",
        signed_in=member.signed_in,
        member=member,
        section="requests",
        context={"charts": charts, "base": _base(request, member), "zone": zone},
    )
