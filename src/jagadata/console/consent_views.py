"""Consent in the console: rates per purpose over time (no person named), one person's consent
history (an audited access, with the reason for it), and the ledger exported for an auditor.

The controller must be able to prove consent (UU PDP Art. 24); every look at a person's data
is written to the audit trail before the data is shown (Art. 47, `console.audited`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Annotated, Any, Final, cast
from urllib.parse import urlencode

from babel.dates import format_date
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jagadata.accounts.deps import Member, now_of, require_role
from jagadata.accounts.roles import Action
from jagadata.audit.service import Actor, record
from jagadata.consent.ledger import ledger_length
from jagadata.consent.models import Channel, ConsentEvent, ConsentState
from jagadata.consent.schemas import SUBJECT_REF_PATTERN
from jagadata.consent.state import Answer, check_many, consent_purposes
from jagadata.consent.terms import PurposeTerms
from jagadata.console import consent_stats as stats
from jagadata.console.audited import audited_view
from jagadata.console.charts import ColumnChart, Group
from jagadata.console.charts import Series as ChartSeries
from jagadata.console.consent_export import ExportRequest, write_archive
from jagadata.console.export import ChunkWriter, stream_produced
from jagadata.console.render import DOMAIN, console_language, render
from jagadata.db import atomic
from jagadata.db.tenancy import acting_for
from jagadata.i18n import N_, gettext
from jagadata.identities import IdentityKind, InvalidIdentity, identity_hash
from jagadata.logs import personal_data_kind
from jagadata.orgs.service import WIB, today_in_indonesia
from jagadata.web.deps import SessionDep

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Member, Depends(require_role(Action.VIEW_DASHBOARD))]
Reader = Annotated[Member, Depends(require_role(Action.VIEW_PERSONAL_DATA))]
Exporter = Annotated[Member, Depends(require_role(Action.EXPORT_AUDIT_LOG))]
Text = Annotated[str | None, Query(max_length=80)]

HISTORY_PAGE: Final = 50
REASON_MIN: Final = 10
REASON_MAX: Final = 300
SUBJECT_REF: Final = "subject_ref"
SERIES_LABELS: Final = {
    stats.Series.GIVEN: N_("Given"),
    stats.Series.REFUSED: N_("Refused"),
    stats.Series.WITHDRAWN: N_("Withdrawn"),
}
KIND_LABELS: Final = {
    "given": N_("given"),
    "renewed": N_("renewed"),
    "refused": N_("refused"),
    "withdrawn": N_("withdrawn"),
    "expired": N_("expired"),
}
CHANNEL_LABELS: Final = {
    Channel.WEB_FORM.value: N_("Web form"),
    Channel.COOKIE_BANNER.value: N_("Cookie banner"),
    Channel.WHATSAPP.value: N_("WhatsApp"),
    Channel.EMAIL_DOUBLE_OPT_IN.value: N_("Email (double opt-in)"),
    Channel.PAPER.value: N_("Paper form"),
    Channel.API.value: N_("API"),
}
REASON_LABELS: Final = {
    "given": N_("consents"),
    "withdrawn": N_("withdrew"),
    "refused": N_("refused"),
    "expired": N_("expired: ask again"),
    "reconsent_required": N_("the policy changed: ask again"),
    "never_asked": N_("never asked"),
}
IDENTITY_KINDS: Final = {
    IdentityKind.EMAIL.value: N_("Email address"),
    IdentityKind.PHONE.value: N_("Phone number"),
    IdentityKind.REFERENCE.value: N_("Customer or student number"),
    IdentityKind.NIK.value: N_("NIK"),
    SUBJECT_REF: N_("Subject reference (anon_… or the 64-character hash)"),
}
IDENTITY_ERRORS: Final = {
    IdentityKind.EMAIL.value: N_("This is not an email address: check it and search again."),
    IdentityKind.PHONE.value: N_(
        "This is not a phone number: write it as 0812… or +62…, and search again."
    ),
    IdentityKind.REFERENCE.value: N_("Write the number as your own systems know it."),
    IdentityKind.NIK.value: N_("A NIK has 16 digits: check it and search again."),
    SUBJECT_REF: N_(
        "A subject reference is anon_ followed by 16 to 64 letters, digits or dashes, or 64 "
        "hexadecimal characters, as the API and the audit log show it."
    ),
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, DOMAIN)


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _base(request: Request, member: Member) -> str:
    return f"{request.scope.get('root_path', '')}/admin/o/{member.organisation.slug}/consent"


def _terms(session: Session, member: Member, now: datetime) -> list[PurposeTerms]:
    return stats.terms_in_force(session=session, organisation_id=member.organisation.id, now=now)


# --- overview -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverviewFilters:
    purpose: str
    channel: str
    unit: stats.Unit
    since: date | None
    until: date | None

    def query(self) -> str:
        values = {
            "purpose": self.purpose,
            "channel": self.channel,
            "unit": self.unit.value,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return urlencode({name: value for name, value in values.items() if value})


def _period_label(start: date, unit: stats.Unit, lang: str) -> str:
    if unit is stats.Unit.WEEK:
        return format_date(start, format="d MMM", locale=lang)
    return format_date(start, format="MMM yy", locale=lang)


def _chart(rates: stats.PurposeRates, span: stats.Range, lang: str) -> ColumnChart:
    series = tuple(ChartSeries(s.value, _t(lang, SERIES_LABELS[s])) for s in stats.Series)
    groups = tuple(
        Group(
            start.isoformat(),
            _period_label(start, span.unit, lang),
            tuple(counts.get(s, 0) for s in stats.Series),
        )
        for start, counts in rates.counts.items()
    )
    title = (
        _t(lang, "Consent events for {purpose}, per week")
        if span.unit is stats.Unit.WEEK
        else _t(lang, "Consent events for {purpose}, per month")
    )
    return ColumnChart(
        f"consent-chart-{rates.purpose}", title.format(purpose=rates.purpose), series, groups
    )


@router.get("/admin/o/{org}/consent")
def consent_overview(
    request: Request,
    session: SessionDep,
    member: Viewer,
    purpose: Text = None,
    channel: Text = None,
    unit: Text = None,
    since: Text = None,
    until: Text = None,
) -> Response:
    """Given, refused and withdrawn consents per purpose and period; who consents now."""
    lang = console_language(request)
    now = now_of(request)
    organisation_id = member.organisation.id
    terms = _terms(session, member, now)
    recorded = stats.recorded_purposes(session=session, organisation_id=organisation_id)
    purposes = [t.purpose for t in terms] + [
        p for p in recorded if p not in {t.purpose for t in terms}
    ]
    chosen_unit = stats.Unit.MONTH if unit == stats.Unit.MONTH.value else stats.Unit.WEEK
    filters = OverviewFilters(
        purpose=purpose if purpose in purposes else "",
        channel=channel if channel in CHANNEL_LABELS else "",
        unit=chosen_unit,
        since=_date(since),
        until=_date(until),
    )
    bad_date = bool(since and filters.since is None) or bool(until and filters.until is None)
    span = stats.Range.of(filters.unit, filters.since, filters.until, today_in_indonesia(now))
    shown = [filters.purpose] if filters.purpose else purposes
    rates = stats.rates(
        session=session,
        organisation_id=organisation_id,
        span=span,
        purposes=shown,
        channel=filters.channel or None,
    )
    standings = stats.standings(
        session=session, organisation_id=organisation_id, terms=terms, extra=recorded, now=now
    )
    if filters.purpose:
        standings = [s for s in standings if s.purpose == filters.purpose]
    events = ledger_length(session=session, organisation_id=organisation_id)
    return render(
        request,
        "console/consent.html",
        signed_in=member.signed_in,
        member=member,
        section="consent",
        fragment="console/_consent_results.html",
        context={
            "filters": filters,
            "span": span,
            "bad_date": bad_date,
            "purposes": purposes,
            "channels": {key: _t(lang, label) for key, label in CHANNEL_LABELS.items()},
            "charts": [(r.purpose, _chart(r, span, lang)) for r in rates],
            "matched": sum(r.total(s) for r in rates for s in stats.Series),
            "standings": standings,
            "ledger_events": events,
            "no_purpose": not purposes,
            "base": _base(request, member),
            "may_export": member.may(Action.EXPORT_AUDIT_LOG)
            and member.may(Action.VIEW_PERSONAL_DATA),
            "may_read": member.may(Action.VIEW_PERSONAL_DATA),
        },
    )


# --- a person's history ---------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    kind: str = IdentityKind.EMAIL.value
    value: str = ""
    reason: str = ""


def _history_page(
    request: Request,
    member: Member,
    lookup: Lookup,
    *,
    errors: dict[str, str] | None = None,
    found: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    lang = console_language(request)
    return render(
        request,
        "console/consent_history.html",
        signed_in=member.signed_in,
        member=member,
        section="consent_history",
        status_code=status_code,
        context={
            "lookup": lookup,
            "errors": errors or {},
            "found": found,
            "kinds": {key: _t(lang, label) for key, label in IDENTITY_KINDS.items()},
            "base": _base(request, member),
            "reason_min": REASON_MIN,
            "reason_max": REASON_MAX,
        },
    )


@router.get("/admin/o/{org}/consent/history")
def history_form(request: Request, member: Reader) -> Response:
    """The search form: an identity and the reason for looking."""
    return _history_page(request, member, Lookup())


def _subject_ref(kind: str, value: str) -> str:
    """The ledger's name for the person: the keyed hash of the normalised identity, as the
    consent service stores it, or a subject reference given as is."""
    if kind == SUBJECT_REF:
        if not re.fullmatch(SUBJECT_REF_PATTERN, value.strip()):
            raise InvalidIdentity("not a subject reference")
        return value.strip()
    return identity_hash(kind, value)


def _reason_error(reason: str, lang: str) -> str | None:
    if len(reason) < REASON_MIN:
        return _t(
            lang,
            "Say why you need to see this person's consent (at least {n} characters): "
            "it is written to the audit log.",
        ).format(n=REASON_MIN)
    if personal_data_kind(reason) is not None:
        return _t(
            lang,
            "Leave email addresses, phone numbers and NIKs out of the reason: the audit log "
            "never holds them. Describe the case instead (a request number, say).",
        )
    return None


@router.post("/admin/o/{org}/consent/history")
def history(
    request: Request,
    session: SessionDep,
    member: Reader,
    kind: Annotated[str, Form(max_length=16)] = IdentityKind.EMAIL.value,
    value: Annotated[str, Form(max_length=320)] = "",
    reason: Annotated[str, Form(max_length=REASON_MAX)] = "",
    before: Annotated[int | None, Form(ge=1, le=2**62)] = None,
) -> Response:
    """A person's consent events and where they stand per purpose — shown only once the access,
    who looked and why, is committed to the audit trail."""
    lang = console_language(request)
    lookup = Lookup(
        kind if kind in IDENTITY_KINDS else IdentityKind.EMAIL.value,
        value,
        " ".join(reason.split()),
    )
    errors: dict[str, str] = {}
    subject_ref = None
    if not value.strip():
        errors["value"] = _t(lang, "Write the identity to search for.")
    else:
        try:
            subject_ref = _subject_ref(lookup.kind, value)
        except InvalidIdentity:
            errors["value"] = _t(lang, IDENTITY_ERRORS[lookup.kind])
    reason_error = _reason_error(lookup.reason, lang)
    if reason_error:
        errors["reason"] = reason_error
    if errors or subject_ref is None:
        return _history_page(request, member, lookup, errors=errors, status_code=400)
    organisation_id = member.organisation.id
    anonymous = subject_ref.startswith("anon_")
    audited_view(
        request,
        session,
        member,
        action="consent.history_viewed",
        target_type="consent_subject",
        target_id=None,
        subject_ref=None if anonymous else subject_ref,
        details={
            "reason": lookup.reason,
            "identity_kind": lookup.kind,
            "anonymous_ref": subject_ref
            if anonymous and personal_data_kind(subject_ref) is None
            else None,
            "page_before": before,
        },
    )
    found = _found(session, organisation_id, subject_ref, before, now_of(request), lang)
    found["shown_ref"] = subject_ref
    return _history_page(request, member, lookup, found=found)


def _found(
    session: Session,
    organisation_id: int,
    subject_ref: str,
    before: int | None,
    now: datetime,
    lang: str,
) -> dict[str, Any]:
    with acting_for(session, organisation_id):
        mine = (
            ConsentEvent.organisation_id == organisation_id,
            ConsentEvent.subject_ref == subject_ref,
        )
        total = session.scalar(select(func.count()).select_from(ConsentEvent).where(*mine)) or 0
        statement = select(ConsentEvent).where(*mine)
        if before is not None:
            statement = statement.where(ConsentEvent.sequence < before)
        events = list(
            session.scalars(
                statement.order_by(ConsentEvent.sequence.desc()).limit(HISTORY_PAGE + 1)
            )
        )
        states = list(
            session.scalars(
                select(ConsentState)
                .where(
                    ConsentState.organisation_id == organisation_id,
                    ConsentState.subject_ref == subject_ref,
                )
                .order_by(ConsentState.purpose)
            )
        )
    older = events[HISTORY_PAGE - 1].sequence if len(events) > HISTORY_PAGE else None
    answers = _answers(session, organisation_id, subject_ref, [s.purpose for s in states], now)
    return {
        "total": total,
        "events": events[:HISTORY_PAGE],
        "older": older,
        "paged": before is not None,
        "states": [
            {
                "state": s,
                "answer": answers.get(s.purpose),
                "label": _t(lang, REASON_LABELS[answers[s.purpose].reason.value])
                if s.purpose in answers
                else _t(lang, KIND_LABELS.get(s.status, s.status)),
            }
            for s in states
        ],
        "kinds": {key: _t(lang, label) for key, label in KIND_LABELS.items()},
        "channels": {key: _t(lang, label) for key, label in CHANNEL_LABELS.items()},
    }


def _answers(
    session: Session, organisation_id: int, subject_ref: str, purposes: list[str], now: datetime
) -> dict[str, Answer]:
    """What the consent check answers now for each purpose still consent-based in force."""
    try:
        in_force = {
            t.purpose
            for t in consent_purposes(session=session, organisation_id=organisation_id, now=now)[1]
        }
    except LookupError:
        return {}
    asked = [p for p in purposes if p in in_force]
    if not asked:
        return {}
    answers = check_many(
        session=session,
        organisation_id=organisation_id,
        pairs=[(subject_ref, p) for p in asked],
        now=now,
    )
    return {answer.purpose: answer for answer in answers}


# --- export ---------------------------------------------------------------------------------


@router.post("/admin/o/{org}/consent/export")
def export_ledger(
    request: Request,
    session: SessionDep,
    member: Exporter,
    since: Annotated[str, Form(max_length=10)] = "",
    until: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The ledger (or the days chosen) as a ZIP of JSON lines, CSV and a manifest, streamed;
    the export is in the audit trail before the first byte leaves."""
    if not member.may(Action.VIEW_PERSONAL_DATA):
        raise HTTPException(status_code=403)
    first, last = _date(since), _date(until)
    if first and last and first > last:
        first, last = last, first
    now = now_of(request)
    with atomic(session):
        record(
            session=session,
            organisation_id=member.organisation.id,
            actor=Actor.user(member.user.id),
            action="consent.exported",
            target_type="organisation",
            target_id=member.organisation.id,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            details={
                "format": "zip",
                "since": first.isoformat() if first else None,
                "until": last.isoformat() if last else None,
                "ledger_events": ledger_length(
                    session=session, organisation_id=member.organisation.id
                ),
            },
            occurred_at=now,
        )
    job = ExportRequest(
        organisation_id=member.organisation.id,
        organisation_slug=member.organisation.slug,
        since=first,
        until=last,
        exported_by={
            "user_id": member.user.id,
            "email": member.user.email,
            "role": member.role.value,
        },
        generated_at=now,
    )
    stamp = now.astimezone(WIB).strftime("%Y%m%d-%H%M")
    name = f"consent-ledger-{member.organisation.slug}-{stamp}.zip"

    def write(export_session: Session, out: ChunkWriter) -> None:
        write_archive(export_session, cast(IO[bytes], out), job)

    return StreamingResponse(
        stream_produced(
            request.app.state.sessions,
            organisation_id=member.organisation.id,
            write=write,
            name="consent-export",
        ),
        media_type="application/zip",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )
