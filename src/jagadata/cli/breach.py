"""`jagadata breach record|assess|list|show|draft|notify|close|export`: the breach register
(UU PDP Art. 46) from the command line — record a failure of personal data protection, see who
it affects, send the written notices within 3 x 24 hours, and export the evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from jagadata.audit.service import Actor
from jagadata.breach import service
from jagadata.breach.clock import time_left_text
from jagadata.breach.models import BreachIncident
from jagadata.breach.notices import (
    authority_document,
    public_document,
    subject_notice,
    timeline_document,
    zone,
)
from jagadata.breach.service import BreachProblem
from jagadata.breach.states import IncidentStatus
from jagadata.cli.common import LangOption, cli_language, console, fail
from jagadata.cli.db import migrated_session
from jagadata.datastores.errors import DatastoreError
from jagadata.db.tenancy import scope
from jagadata.i18n import gettext
from jagadata.manifest.schema import Manifest
from jagadata.orgs import service as orgs
from jagadata.orgs.models import Organisation
from jagadata.rights.service import RequestProblem, manifest_in_force
from jagadata.rights.templating import local_time

app = typer.Typer(
    help="The breach register (Art. 46): record a breach, see who it affects, notify the people "
    "and the authority within 3 x 24 hours, export the evidence.",
    no_args_is_help=True,
)

CLI: Actor = Actor.system("cli")
EXIT_BROKEN = 1
"""The evidence was written, but the incident's timeline was altered."""


class Audience(StrEnum):
    PEOPLE = "people"
    AUTHORITY = "authority"
    PUBLIC = "public"


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "breach")


def _context(session: Session, slug: str, lang: str) -> tuple[Organisation, Manifest]:
    organisation = orgs.get_organisation(session=session, slug=slug)
    if organisation is None:
        fail(
            _t(lang, "There is no organisation {slug}.").format(slug=slug),
            hint=_t(lang, "See the registered ones with: jagadata org list"),
        )
    scope(session, organisation.id)
    try:
        _number, manifest = manifest_in_force(session, organisation)
    except RequestProblem:
        fail(
            _t(lang, "{slug} has no published manifest.").format(slug=slug),
            hint=_t(lang, "Publish one with: jagadata org update MANIFEST"),
        )
    return organisation, manifest


def _incident(
    session: Session, organisation: Organisation, reference: str, lang: str
) -> BreachIncident:
    try:
        return service.get_incident(session, organisation.id, reference)
    except BreachProblem as problem:
        fail(
            problem.render(lang),
            hint=_t(lang, "See the register with: jagadata breach list {slug}").format(
                slug=organisation.slug
            ),
        )


def _moment(value: str | None, manifest: Manifest, lang: str, option: str) -> datetime | None:
    """An ISO 8601 moment; without a zone, in the organisation's own (WIB, WITA, WIT)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(
            _t(lang, "{option}: '{value}' is not a date and time.").format(
                option=option, value=value
            ),
            hint=_t(lang, "Write it as 2026-11-23T10:15 (the organisation's time) or with +07:00."),
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone(manifest)))
    return moment.astimezone(UTC)


def _problem(problem: BreachProblem | DatastoreError, lang: str) -> None:
    message = problem.render(lang)
    fail(message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."))


def _print_counts(incident: BreachIncident, lang: str) -> None:
    affected = incident.affected
    if affected is None:
        console.print(_t(lang, "People affected: not computed yet."))
        return
    console.print(
        _t(
            lang,
            "People affected: {total} ({children} children, {specific} with specific data, "
            "{reachable} reachable by email or WhatsApp).",
        ).format(**affected)
    )
    for category, count in affected["by_category"].items():
        console.print(f"  {escape(category)}: {count}")
    if affected["unmapped_systems"]:
        console.print(
            _t(lang, "Systems without a datastore mapping, to count by hand: {systems}.").format(
                systems=", ".join(affected["unmapped_systems"])
            )
        )


@app.command("record")
def record_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    title: str = typer.Option(..., "--title", help="A short title, without personal data."),
    what: str = typer.Option(..., "--what", help="What happened and how the data was disclosed."),
    measures: str = typer.Option(
        ..., "--measures", help="What is being done to handle and recover from it."
    ),
    system: list[str] = typer.Option(..., "--system", help="A system involved (repeat)."),
    category: list[str] = typer.Option(
        [], "--category", help="A data category disclosed (repeat); all the systems' if none."
    ),
    discovered: str | None = typer.Option(
        None, "--discovered", help="When it was discovered (ISO 8601); now if not given."
    ),
    occurred: str | None = typer.Option(
        None, "--occurred", help="When it happened, if known (ISO 8601)."
    ),
    public_interest: str | None = typer.Option(
        None, "--public-interest", help="Why the public must be told (Art. 46(3)), if it must."
    ),
    lang: str | None = LangOption,
) -> None:
    """Record a breach, start its 72-hour clock from discovery and find the people affected."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation, manifest = _context(session, org, lang)
        facts = service.Facts(
            title=title,
            what_happened=what,
            measures=measures,
            discovered_at=_moment(discovered, manifest, lang, "--discovered") or datetime.now(UTC),
            occurred_at=_moment(occurred, manifest, lang, "--occurred"),
            systems=system,
            categories=category,
            public_interest=public_interest,
        )
        try:
            incident = service.record_incident(session, organisation, manifest, facts, actor=CLI)
        except BreachProblem as problem:
            _problem(problem, lang)
        session.commit()
        console.print(
            _t(lang, "Recorded {reference}: notify by {due} ({left}).").format(
                reference=incident.reference,
                due=local_time(incident.due_at, lang, zone(manifest)),
                left=time_left_text(incident.due_at, datetime.now(UTC), lang),
            )
        )
        try:
            service.assess_incident(session, incident, manifest, actor=CLI)
        except DatastoreError as error:
            session.rollback()
            fail(
                _t(lang, "The people affected could not be counted: {reason}").format(
                    reason=error.render(lang)
                ),
                hint=_t(lang, "Fix it, then run: jagadata breach assess {slug} {reference}").format(
                    slug=org, reference=incident.reference
                ),
            )
        session.commit()
        _print_counts(incident, lang)


@app.command("assess")
def assess_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    reference: str = typer.Argument(..., help="The incident's reference, e.g. B-ABCD2345."),
    lang: str | None = LangOption,
) -> None:
    """Count again the people affected, from the datastore mappings."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation, manifest = _context(session, org, lang)
        incident = _incident(session, organisation, reference, lang)
        try:
            service.assess_incident(session, incident, manifest, actor=CLI)
        except (BreachProblem, DatastoreError) as problem:
            _problem(problem, lang)
        session.commit()
        _print_counts(incident, lang)


@app.command("list")
def list_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    lang: str | None = LangOption,
) -> None:
    """The register: every incident, newest first, with the time left to notify."""
    lang = cli_language(lang)
    now = datetime.now(UTC)
    with migrated_session(lang) as session:
        organisation, manifest = _context(session, org, lang)
        rows = service.incidents(session, organisation.id)
        if not rows:
            console.print(_t(lang, "No breach recorded."))
            return
        table = Table(title=escape(organisation.name))
        for header in (
            _t(lang, "Reference"),
            _t(lang, "Title"),
            _t(lang, "Status"),
            _t(lang, "Discovered"),
            _t(lang, "Time left"),
            _t(lang, "People"),
        ):
            table.add_column(header)
        for row in rows:
            table.add_row(
                row.reference,
                escape(row.title),
                row.status,
                local_time(row.discovered_at, lang, zone(manifest)),
                time_left_text(
                    row.due_at, now, lang, stopped=row.status != IncidentStatus.OPEN.value
                ),
                str(row.affected["total"]) if row.affected else "—",
            )
        console.print(table)


@app.command("show")
def show_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    reference: str = typer.Argument(..., help="The incident's reference."),
    lang: str | None = LangOption,
) -> None:
    """One incident: its facts, deadline, the people affected, the notices and the timeline."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation, manifest = _context(session, org, lang)
        incident = _incident(session, organisation, reference, lang)
        tz = zone(manifest)
        console.print(
            f"[bold]{incident.reference}[/bold] {escape(incident.title)} ({incident.status})"
        )
        console.print(
            _t(lang, "Discovered: {moment}").format(
                moment=local_time(incident.discovered_at, lang, tz)
            )
        )
        console.print(
            _t(lang, "Occurred: {moment}").format(
                moment=local_time(incident.occurred_at, lang, tz) or _t(lang, "not known yet")
            )
        )
        console.print(
            _t(lang, "Notice due by {due} (Art. 46(1)): {left}.").format(
                due=local_time(incident.due_at, lang, tz),
                left=time_left_text(
                    incident.due_at,
                    datetime.now(UTC),
                    lang,
                    stopped=incident.status != IncidentStatus.OPEN.value,
                ),
            )
        )
        _print_counts(incident, lang)
        statuses = service.delivery(session, incident)
        session.commit()
        if statuses:
            console.print(
                _t(lang, "Notices to people: {statuses}.").format(
                    statuses=", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
                )
            )
        for event in service.timeline(session, incident):
            console.print(
                f"  {event.sequence:>3}  {local_time(event.at, lang, tz)}  {event.kind}  "
                f"{escape(event.actor_label or event.actor_kind)}"
            )


@app.command("draft")
def draft_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    reference: str = typer.Argument(..., help="The incident's reference."),
    audience: Audience = typer.Argument(..., help="people, authority or public."),
    notice_lang: str | None = typer.Option(
        None, "--in", help="For people: also in this language (en, fr) after the Indonesian."
    ),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write it to this file."),
    lang: str | None = LangOption,
) -> None:
    """Show a notice as it will be sent, without sending anything."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation, manifest = _context(session, org, lang)
        incident = _incident(session, organisation, reference, lang)
        if audience is Audience.PEOPLE:
            notice = subject_notice(incident, manifest, incident.categories, notice_lang)
            document = f"{notice.subject}\n\n{notice.text}\n"
        elif audience is Audience.AUTHORITY:
            document = authority_document(incident, manifest)
        else:
            document = public_document(incident, manifest)
    if output is None:
        console.print(document, markup=False)
        return
    _write(output, document, lang)
    console.print(_t(lang, "Written: {path}").format(path=escape(str(output))))


def _write(path: Path, content: str, lang: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    except OSError as error:
        fail(
            _t(lang, "Cannot write {path}: {reason}.").format(
                path=path, reason=error.strerror or error
            ),
            hint=_t(lang, "Choose a place you can write to."),
        )


@app.command("notify")
def notify_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    reference: str = typer.Argument(..., help="The incident's reference."),
    audience: Audience = typer.Argument(..., help="people, authority or public."),
    to: str | None = typer.Option(
        None, "--to", help="authority: the address to email the document to."
    ),
    note: str | None = typer.Option(
        None, "--note", help="authority: how it was delivered when not by email from jagadata."
    ),
    where: str | None = typer.Option(None, "--where", help="public: where it was published."),
    lang: str | None = LangOption,
) -> None:
    """Send the notices: to each person affected (email or WhatsApp, through the outbox), to
    the authority (by email, or recorded as delivered otherwise), or record the public notice."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation, manifest = _context(session, org, lang)
        incident = _incident(session, organisation, reference, lang)
        try:
            if audience is Audience.PEOPLE:
                sent = service.notify_subjects(session, incident, manifest, actor=CLI)
                message = _t(
                    lang,
                    "{email} notice(s) by email and {whatsapp} by WhatsApp put in the outbox; "
                    "{no_contact} people have no known contact.",
                ).format(**sent)
            elif audience is Audience.AUTHORITY:
                if not (to or note):
                    fail(
                        _t(lang, "Say where the authority's notice goes."),
                        hint=_t(
                            lang,
                            "Give --to ADDRESS to email it, or --note 'how it was delivered'.",
                        ),
                    )
                service.notify_authority(session, incident, manifest, actor=CLI, to=to, note=note)
                message = _t(lang, "The notice to the authority is recorded on the timeline.")
            else:
                if not where:
                    fail(
                        _t(lang, "Say where the public notice was published."),
                        hint=_t(lang, "Give --where URL."),
                    )
                service.notify_public(session, incident, manifest, actor=CLI, where=where)
                message = _t(lang, "The public notice is recorded on the timeline.")
        except BreachProblem as problem:
            _problem(problem, lang)
        session.commit()
    console.print(message)


@app.command("close")
def close_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    reference: str = typer.Argument(..., help="The incident's reference."),
    note: str = typer.Option(..., "--note", help="How it was handled and recovered from."),
    lang: str | None = LangOption,
) -> None:
    """Close an incident once handled; its record stays as evidence."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation, _manifest = _context(session, org, lang)
        incident = _incident(session, organisation, reference, lang)
        try:
            service.close_incident(session, incident, actor=CLI, note=note)
        except BreachProblem as problem:
            _problem(problem, lang)
        session.commit()
    console.print(_t(lang, "{reference} is closed.").format(reference=incident.reference))


@app.command("export")
def export_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    reference: str = typer.Argument(..., help="The incident's reference."),
    output: Path = typer.Option(..., "-o", "--output", help="Folder to write the evidence in."),
    lang: str | None = LangOption,
) -> None:
    """Write the incident and its timeline as evidence (JSON and HTML); exit 1 if the timeline
    no longer verifies."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation, _manifest = _context(session, org, lang)
        incident = _incident(session, organisation, reference, lang)
        evidence = service.evidence(session, incident, organisation)
        session.commit()
    base = output / f"breach-{incident.reference}"
    _write(base.with_suffix(".json"), json.dumps(evidence, ensure_ascii=False, indent=2), lang)
    _write(base.with_suffix(".html"), timeline_document(evidence), lang)
    for suffix in (".html", ".json"):
        console.print(
            _t(lang, "Written: {path}").format(path=escape(str(base.with_suffix(suffix))))
        )
    chain = evidence["chain"]
    if not chain["intact"]:
        console.print(
            "[red]"
            + _t(
                lang,
                "The timeline is broken at entry {sequence}: it was altered after it was written.",
            ).format(sequence=chain["broken_at"])
            + "[/red]"
        )
        raise typer.Exit(EXIT_BROKEN)
    console.print(
        "[green]"
        + _t(lang, "The timeline is intact: {count} entries verified.").format(
            count=len(evidence["timeline"])
        )
        + "[/green]"
    )
