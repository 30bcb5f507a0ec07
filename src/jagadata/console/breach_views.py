"""The breach register in the console (UU PDP Art. 46): every incident with the time left to
notify, a form to record one, and an incident's page — its facts, the people affected (counts
only), the notices as they will be sent, buttons to send them, and its timeline, exportable
as evidence. Everything here needs the right to register breaches and send notices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from jagadata.accounts.deps import Member, now_of, require_role, settings_of
from jagadata.accounts.roles import Action
from jagadata.audit.service import Actor
from jagadata.breach import service
from jagadata.breach.clock import time_left_text
from jagadata.breach.models import BreachIncident
from jagadata.breach.notices import (
    authority_document,
    category_names,
    public_document,
    subject_notice,
    timeline_document,
    zone,
)
from jagadata.breach.service import BreachProblem
from jagadata.breach.states import IncidentStatus
from jagadata.console.render import DOMAIN, console_language, render
from jagadata.datastores.errors import DatastoreError
from jagadata.db import atomic
from jagadata.i18n import N_, gettext
from jagadata.manifest.schema import Manifest
from jagadata.rights.service import RequestProblem, manifest_in_force
from jagadata.rights.templating import local_time
from jagadata.web.deps import SessionDep

router = APIRouter(include_in_schema=False)

Manager = Annotated[Member, Depends(require_role(Action.MANAGE_BREACHES))]
Short = Annotated[str, Form(max_length=200)]
Long = Annotated[str, Form(max_length=4000)]
PRIVATE: Final = {"cache-control": "private, no-store"}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, DOMAIN)


def _actor(member: Member) -> Actor:
    return Actor.user(member.user.id, member.role.value)


def _base(request: Request, member: Member) -> str:
    return f"{request.scope.get('root_path', '')}/admin/o/{member.organisation.slug}/breaches"


def _manifest(session: Session, member: Member) -> Manifest:
    try:
        _number, manifest = manifest_in_force(session, member.organisation)
    except RequestProblem:
        raise HTTPException(status_code=409, detail="no published manifest") from None
    return manifest


def _incident(session: Session, member: Member, reference: str) -> BreachIncident:
    try:
        return service.get_incident(session, member.organisation.id, reference)
    except BreachProblem:
        raise HTTPException(status_code=404) from None


# --- the register ---------------------------------------------------------------------------


def _register(
    request: Request,
    session: Session,
    member: Member,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    lang = console_language(request)
    manifest = _manifest(session, member)
    now = now_of(request)
    tz = zone(manifest)
    rows = [
        {
            "incident": incident,
            "discovered": local_time(incident.discovered_at, lang, tz),
            "due": local_time(incident.due_at, lang, tz),
            "left": time_left_text(
                incident.due_at, now, lang, stopped=incident.status != IncidentStatus.OPEN.value
            ),
            "overdue": incident.status == IncidentStatus.OPEN.value and now > incident.due_at,
            "people": incident.affected["total"] if incident.affected else None,
        }
        for incident in service.incidents(session, member.organisation.id)
    ]
    return render(
        request,
        "console/breaches.html",
        signed_in=member.signed_in,
        member=member,
        section="breaches",
        status_code=status_code,
        context={
            "rows": rows,
            "base": _base(request, member),
            "systems": [(s.id, s.name) for s in manifest.systems],
            "categories": [(c.id, c.name.get(lang)) for c in manifest.data.categories],
            "form": form or {},
            "error": error,
        },
    )


@router.get("/admin/o/{org}/breaches")
def register_page(request: Request, session: SessionDep, member: Manager) -> Response:
    return _register(request, session, member)


def _moment(value: str, manifest: Manifest) -> datetime | None:
    """A datetime-local field, read in the organisation's time zone."""
    if not value.strip():
        return None
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone(manifest)))
    return moment.astimezone(UTC)


@router.post("/admin/o/{org}/breaches")
def record(
    request: Request,
    session: SessionDep,
    member: Manager,
    title: Short = "",
    discovered: Short = "",
    occurred: Short = "",
    what: Long = "",
    measures: Long = "",
    public_interest: Short = "",
    system: Annotated[list[str] | None, Form()] = None,
    category: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Record a breach, start its clock and count the people affected."""
    lang = console_language(request)
    manifest = _manifest(session, member)
    form = {
        "title": title,
        "discovered": discovered,
        "occurred": occurred,
        "what": what,
        "measures": measures,
        "public_interest": public_interest,
    }
    try:
        discovered_at = _moment(discovered, manifest) or now_of(request)
        occurred_at = _moment(occurred, manifest)
    except ValueError:
        return _register(
            request,
            session,
            member,
            form=form,
            error=_t(lang, "Give the moments as a date and a time."),
            status_code=400,
        )
    facts = service.Facts(
        title=title.strip(),
        what_happened=what,
        measures=measures,
        discovered_at=discovered_at,
        occurred_at=occurred_at,
        systems=system or [],
        categories=category or [],
        public_interest=public_interest.strip() or None,
    )
    try:
        with atomic(session):
            incident = service.record_incident(
                session,
                member.organisation,
                manifest,
                facts,
                actor=_actor(member),
                now=now_of(request),
            )
    except BreachProblem as problem:
        return _register(
            request, session, member, form=form, error=problem.render(lang), status_code=400
        )
    done = "recorded"
    try:
        with atomic(session):
            service.assess_incident(session, incident, manifest, actor=_actor(member))
    except DatastoreError:
        done = "not_assessed"
    return RedirectResponse(
        f"{_base(request, member)}/{incident.reference}?done={done}", status_code=303
    )


# --- one incident ---------------------------------------------------------------------------

DONE: Final = {
    "recorded": N_("The breach is recorded; its clock runs from discovery."),
    "not_assessed": N_(
        "The breach is recorded, but the people affected could not be counted: check the "
        "datastore connections, then count again."
    ),
    "assessed": N_("The people affected were counted again."),
    "people": N_("The notices to the people are in the outbox."),
    "authority": N_("The notice to the authority is recorded."),
    "public": N_("The public notice is recorded."),
    "closed": N_("The incident is closed."),
}


def _detail(
    request: Request,
    session: Session,
    member: Member,
    incident: BreachIncident,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    lang = console_language(request)
    manifest = _manifest(session, member)
    tz = zone(manifest)
    now = now_of(request)
    done = request.query_params.get("done")
    sample = subject_notice(incident, manifest, incident.categories, None)
    deliveries = service.delivery(session, incident)
    session.commit()
    context: dict[str, Any] = {
        "incident": incident,
        "base": _base(request, member),
        "discovered": local_time(incident.discovered_at, lang, tz),
        "occurred": local_time(incident.occurred_at, lang, tz),
        "due": local_time(incident.due_at, lang, tz),
        "left": time_left_text(
            incident.due_at, now, lang, stopped=incident.status != IncidentStatus.OPEN.value
        ),
        "overdue": incident.status == IncidentStatus.OPEN.value and now > incident.due_at,
        "is_open": incident.status != IncidentStatus.CLOSED.value,
        "categories": category_names(manifest, incident.categories, lang),
        "category_counts": [
            (name, (incident.affected or {}).get("by_category", {}).get(category_id, 0))
            for category_id, name in zip(
                incident.categories,
                category_names(manifest, incident.categories, lang),
                strict=True,
            )
        ],
        "affected": incident.affected,
        "deliveries": deliveries,
        "sample": sample,
        "timeline": [
            (event, local_time(event.at, lang, tz)) for event in service.timeline(session, incident)
        ],
        "intact": service.verify_timeline(session, incident) is None,
        "notice": _t(lang, DONE[done]) if done in DONE else None,
        "error": error,
    }
    return render(
        request,
        "console/breach.html",
        signed_in=member.signed_in,
        member=member,
        section="breaches",
        status_code=status_code,
        context=context,
    )


@router.get("/admin/o/{org}/breaches/{reference}")
def incident_page(
    reference: str, request: Request, session: SessionDep, member: Manager
) -> Response:
    return _detail(request, session, member, _incident(session, member, reference))


def _step(
    request: Request, session: Session, member: Member, reference: str, done: str, change: Any
) -> Response:
    """One step in one transaction; back to the incident (303), or its page with what went
    wrong and nothing changed."""
    lang = console_language(request)
    incident = _incident(session, member, reference)
    manifest = _manifest(session, member)
    try:
        with atomic(session):
            change(incident, manifest)
    except (BreachProblem, DatastoreError) as problem:
        incident = _incident(session, member, reference)
        return _detail(
            request, session, member, incident, error=problem.render(lang), status_code=409
        )
    return RedirectResponse(f"{_base(request, member)}/{reference}?done={done}", status_code=303)


@router.post("/admin/o/{org}/breaches/{reference}/assess")
def assess(reference: str, request: Request, session: SessionDep, member: Manager) -> Response:
    def change(incident: BreachIncident, manifest: Manifest) -> None:
        service.assess_incident(
            session, incident, manifest, actor=_actor(member), now=now_of(request)
        )

    return _step(request, session, member, reference, "assessed", change)


@router.post("/admin/o/{org}/breaches/{reference}/notify/people")
def notify_people(
    reference: str, request: Request, session: SessionDep, member: Manager
) -> Response:
    def change(incident: BreachIncident, manifest: Manifest) -> None:
        service.notify_subjects(
            session,
            incident,
            manifest,
            actor=_actor(member),
            now=now_of(request),
            settings=settings_of(request),
        )

    return _step(request, session, member, reference, "people", change)


@router.post("/admin/o/{org}/breaches/{reference}/notify/authority")
def notify_authority(
    reference: str,
    request: Request,
    session: SessionDep,
    member: Manager,
    to: Short = "",
    note: Long = "",
) -> Response:
    if not (to.strip() or note.strip()):
        lang = console_language(request)
        incident = _incident(session, member, reference)
        message = _t(lang, "Give the authority's address, or say how the notice was delivered.")
        return _detail(request, session, member, incident, error=message, status_code=400)

    def change(incident: BreachIncident, manifest: Manifest) -> None:
        service.notify_authority(
            session,
            incident,
            manifest,
            actor=_actor(member),
            to=to.strip() or None,
            note=note.strip() or None,
            now=now_of(request),
            settings=settings_of(request),
        )

    return _step(request, session, member, reference, "authority", change)


@router.post("/admin/o/{org}/breaches/{reference}/notify/public")
def notify_public(
    reference: str, request: Request, session: SessionDep, member: Manager, where: Short = ""
) -> Response:
    if not where.strip():
        lang = console_language(request)
        incident = _incident(session, member, reference)
        message = _t(lang, "Say where the public notice was published.")
        return _detail(request, session, member, incident, error=message, status_code=400)

    def change(incident: BreachIncident, manifest: Manifest) -> None:
        service.notify_public(
            session,
            incident,
            manifest,
            actor=_actor(member),
            where=where.strip(),
            now=now_of(request),
        )

    return _step(request, session, member, reference, "public", change)


@router.post("/admin/o/{org}/breaches/{reference}/close")
def close(
    reference: str, request: Request, session: SessionDep, member: Manager, note: Long = ""
) -> Response:
    def change(incident: BreachIncident, _manifest: Manifest) -> None:
        service.close_incident(
            session, incident, actor=_actor(member), note=note.strip(), now=now_of(request)
        )

    return _step(request, session, member, reference, "closed", change)


# --- documents and evidence -----------------------------------------------------------------


@router.get("/admin/o/{org}/breaches/{reference}/authority.html")
def authority_page(reference: str, session: SessionDep, member: Manager) -> Response:
    """The Indonesian notice to the authority, ready to send or print."""
    incident = _incident(session, member, reference)
    return HTMLResponse(authority_document(incident, _manifest(session, member)), headers=PRIVATE)


@router.get("/admin/o/{org}/breaches/{reference}/public.html")
def public_page(reference: str, session: SessionDep, member: Manager) -> Response:
    """The Indonesian public notice (Art. 46(3)), ready to publish."""
    incident = _incident(session, member, reference)
    return HTMLResponse(public_document(incident, _manifest(session, member)), headers=PRIVATE)


@router.get("/admin/o/{org}/breaches/{reference}/timeline.json")
def timeline_json(reference: str, session: SessionDep, member: Manager) -> Response:
    """The incident and its timeline as evidence, with the chain's check."""
    incident = _incident(session, member, reference)
    evidence = service.evidence(session, incident, member.organisation)
    session.commit()
    return Response(
        json.dumps(evidence, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            **PRIVATE,
            "content-disposition": f'attachment; filename="breach-{incident.reference}.json"',
        },
    )


@router.get("/admin/o/{org}/breaches/{reference}/timeline.html")
def timeline_html(reference: str, session: SessionDep, member: Manager) -> Response:
    incident = _incident(session, member, reference)
    evidence = service.evidence(session, incident, member.organisation)
    session.commit()
    return HTMLResponse(timeline_document(evidence), headers=PRIVATE)
