"""The organisation's audit log: newest entries first, a page at a time (keyset pagination on
the chain's sequence), filtered by action, actor and dates; whether the chain is intact; and
an export for an auditor (streamed, and itself audited)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from jagadata.accounts import keys, service
from jagadata.accounts.deps import Member, now_of, require_role
from jagadata.accounts.roles import Action
from jagadata.audit.export import ExportFormat
from jagadata.audit.models import ActorKind, AuditEntry
from jagadata.audit.service import Actor, record
from jagadata.console.export import stream_export
from jagadata.console.health import chain_status
from jagadata.console.render import DOMAIN, console_language, render, wants_fragment
from jagadata.db import atomic
from jagadata.i18n import N_, gettext
from jagadata.orgs.service import WIB
from jagadata.web.deps import SessionDep

router = APIRouter(include_in_schema=False)

Auditor = Annotated[Member, Depends(require_role(Action.VIEW_AUDIT_LOG))]
Exporter = Annotated[Member, Depends(require_role(Action.EXPORT_AUDIT_LOG))]
Text = Annotated[str | None, Query(max_length=80)]
SequenceQuery = Annotated[int | None, Query(ge=1, le=2**62)]

PAGE_SIZE: Final = 50
ACTION_DESCRIPTIONS: Final = {
    "org.added": N_("Registered the organisation and published version 1"),
    "org.published": N_("Published a new version of the manifest"),
    "manifest.errors_overridden": N_("Confirmed publishing despite errors against UU PDP"),
    "user.added": N_("Created a console account"),
    "membership.added": N_("Gave a person access"),
    "membership.changed": N_("Changed a person's role"),
    "membership.removed": N_("Removed a person's access"),
    "api_key.created": N_("Created an API key"),
    "api_key.revoked": N_("Revoked an API key"),
    "console.opened": N_("Opened this organisation in the console"),
    "audit.exported": N_("Exported the audit log"),
    "outbox.recipient_viewed": N_("Was shown the recipient of a message"),
    "outbox.retried": N_("Retried an undeliverable message"),
    "person.viewed": N_("Was shown a person's data"),
    "consent.history_viewed": N_("Was shown a person's consent history"),
    "consent.exported": N_("Exported the consent ledger"),
    "rights.datastore.run_asked": N_("Asked the engine to do a request's task in a database"),
    "datastore.secret.stored": N_("Stored a database connection, encrypted"),
    "breach.recorded": N_("Recorded a breach and started its 72-hour clock"),
    "breach.assessed": N_("Counted the people a breach affects"),
    "breach.subjects_notified": N_("Sent a breach notice to the people affected"),
    "breach.authority_notified": N_("Notified the authority of a breach"),
    "breach.public_notified": N_("Published a public notice of a breach"),
    "breach.closed": N_("Closed a breach"),
    "retention.swept": N_("Ran a retention sweep"),
    "dpia.started": N_("Started a DPIA"),
    "dpia.updated": N_("Changed a DPIA"),
    "dpia.submitted": N_("Submitted a DPIA to the data protection officer"),
    "dpia.signed_off": N_("Signed a DPIA off"),
    "dpia.sent_back": N_("Sent a DPIA back to draft"),
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, DOMAIN)


@dataclass(frozen=True)
class Filters:
    action: str = ""
    actor: str = ""
    since: date | None = None
    until: date | None = None

    def query(self, **page: int) -> str:
        values: dict[str, Any] = {
            "action": self.action,
            "actor": self.actor,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            **page,
        }
        return urlencode({name: value for name, value in values.items() if value})

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.action:
            statement = statement.where(AuditEntry.action.startswith(self.action, autoescape=True))
        if self.actor:
            kind, _, actor_id = self.actor.partition(":")
            statement = statement.where(AuditEntry.actor_kind == kind)
            if actor_id:
                statement = statement.where(AuditEntry.actor_id == actor_id)
        if self.since:
            statement = statement.where(AuditEntry.occurred_at >= start_of_day(self.since))
        if self.until:
            statement = statement.where(
                AuditEntry.occurred_at < start_of_day(self.until + timedelta(days=1))
            )
        return statement


def start_of_day(day: date) -> datetime:
    """Midnight in Western Indonesia Time: the dates people type are Indonesian dates."""
    return datetime.combine(day, time.min, tzinfo=WIB)


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Page:
    entries: list[AuditEntry]
    newer: int | None
    """`after=` for the page of newer entries, if there are any."""
    older: int | None
    """`before=` for the page of older entries, if there are any."""


def entries_page(
    session: Session,
    organisation_id: int,
    filters: Filters,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of entries, newest first, starting below `before` or just above `after`."""
    base = filters.apply(select(AuditEntry).where(AuditEntry.organisation_id == organisation_id))
    if after is not None:
        rows = list(
            session.scalars(
                base.where(AuditEntry.sequence > after)
                .order_by(AuditEntry.sequence)
                .limit(size + 1)
            )
        )
        more_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        more_older = _exists(session, base.where(AuditEntry.sequence <= after))
    else:
        statement = base if before is None else base.where(AuditEntry.sequence < before)
        rows = list(session.scalars(statement.order_by(AuditEntry.sequence.desc()).limit(size + 1)))
        more_older = len(rows) > size
        rows = rows[:size]
        more_newer = before is not None and _exists(
            session, base.where(AuditEntry.sequence >= before)
        )
    return Page(
        rows,
        newer=rows[0].sequence if rows and more_newer else None,
        older=rows[-1].sequence if rows and more_older else None,
    )


def _exists(session: Session, statement: Select[Any]) -> bool:
    return session.scalars(statement.limit(1)).first() is not None


@dataclass(frozen=True)
class ActorChoice:
    value: str
    label: str


def _actors(session: Session, member: Member, lang: str) -> list[ActorChoice]:
    """Who may appear in the organisation's log: its people, its API keys, the system."""
    organisation_id = member.organisation.id
    choices = [
        ActorChoice(f"{ActorKind.USER.value}:{m.user_id}", m.user.display_name or m.user.email)
        for m in service.members(session=session, organisation_id=organisation_id)
    ]
    choices += [
        ActorChoice(
            f"{ActorKind.API_KEY.value}:{k.id}",
            _t(lang, "API key {name}").format(name=k.name),
        )
        for k in keys.list_keys(session=session, organisation_id=organisation_id)
    ]
    choices.append(ActorChoice(ActorKind.SYSTEM.value, _t(lang, "jagadata itself (system)")))
    return choices


def _actor_label(entry: AuditEntry, names: dict[str, str], lang: str) -> str:
    if entry.actor_kind == ActorKind.SYSTEM.value:
        return _t(lang, "system ({label})").format(label=entry.actor_label or "jagadata")
    if entry.actor_kind == ActorKind.DATA_SUBJECT.value:
        return _t(lang, "a data subject")
    known = names.get(f"{entry.actor_kind}:{entry.actor_id}")
    if known is not None:
        return known
    if entry.actor_kind == ActorKind.API_KEY.value:
        return _t(lang, "API key #{id}").format(id=entry.actor_id)
    return _t(lang, "user #{id} (no longer a member)").format(id=entry.actor_id)


def _target_label(entry: AuditEntry, names: dict[str, str]) -> str:
    if entry.target_type is None:
        return ""
    known = names.get(f"{ActorKind.USER.value}:{entry.target_id}")
    if entry.target_type == "user" and known is not None:
        return known
    return f"{entry.target_type} #{entry.target_id}"


@router.get("/admin/o/{org}/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    member: Auditor,
    action: Text = None,
    actor: Text = None,
    since: Text = None,
    until: Text = None,
    before: SequenceQuery = None,
    after: SequenceQuery = None,
    verify: Text = None,
) -> Response:
    """The log, newest first; an HTMX request (filters, pages) gets only the results."""
    lang = console_language(request)
    filters = Filters(
        action=(action or "").strip(),
        actor=(actor or "").strip(),
        since=_date(since),
        until=_date(until),
    )
    bad_date = bool(since and filters.since is None) or bool(until and filters.until is None)
    page = entries_page(session, member.organisation.id, filters, before=before, after=after)
    actors = _actors(session, member, lang)
    names = {choice.value: choice.label for choice in actors}
    rows = [
        {
            "entry": entry,
            "actor": _actor_label(entry, names, lang),
            "target": _target_label(entry, names),
            "description": _t(lang, ACTION_DESCRIPTIONS[entry.action])
            if entry.action in ACTION_DESCRIPTIONS
            else None,
            "details": json.dumps(entry.details, ensure_ascii=False, sort_keys=True)
            if entry.details
            else "",
        }
        for entry in page.entries
    ]
    context: dict[str, Any] = {
        "filters": filters,
        "page": page,
        "rows": rows,
        "actors": actors,
        "bad_date": bad_date,
        "base": f"{request.scope.get('root_path', '')}/admin/o/{member.organisation.slug}/audit",
        "may_export": member.may(Action.EXPORT_AUDIT_LOG),
        "formats": [fmt.value for fmt in ExportFormat],
    }
    if not wants_fragment(request):
        context["chain"] = chain_status(
            request, session, member.organisation.id, fresh=verify == "now"
        )
    return render(
        request,
        "console/audit.html",
        signed_in=member.signed_in,
        member=member,
        section="audit",
        context=context,
        fragment="console/_audit_results.html",
    )


EXPORT_MEDIA: Final = {
    ExportFormat.CSV: ("text/csv; charset=utf-8", "csv"),
    ExportFormat.JSON: ("application/x-ndjson; charset=utf-8", "jsonl"),
}


@router.post("/admin/o/{org}/audit/export")
def export_audit(
    request: Request,
    session: SessionDep,
    member: Exporter,
    format: Annotated[str, Form(max_length=8)] = ExportFormat.CSV.value,
    since: Annotated[str, Form(max_length=10)] = "",
    until: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The chain (or the days asked for) as CSV or JSON lines, streamed; the export is recorded
    first, so it appears in what it exports."""
    try:
        fmt = ExportFormat(format)
    except ValueError:
        fmt = ExportFormat.CSV
    first, last = _date(since), _date(until)
    now = now_of(request)
    with atomic(session):
        record(
            session=session,
            organisation_id=member.organisation.id,
            actor=Actor.user(member.user.id),
            action="audit.exported",
            target_type="organisation",
            target_id=member.organisation.id,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            details={
                "format": fmt.value,
                "since": first.isoformat() if first else None,
                "until": last.isoformat() if last else None,
            },
            occurred_at=now,
        )
    media_type, extension = EXPORT_MEDIA[fmt]
    stamp = now.astimezone(WIB).strftime("%Y%m%d-%H%M")
    name = f"audit-{member.organisation.slug}-{stamp}.{extension}"
    return StreamingResponse(
        stream_export(
            request.app.state.sessions,
            organisation_id=member.organisation.id,
            fmt=fmt,
            since=start_of_day(first) if first else None,
            until=start_of_day(last + timedelta(days=1)) if last else None,
        ),
        media_type=media_type,
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )
