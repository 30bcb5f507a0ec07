"""`jagadata request list|dossier`: the requests of an organisation and, for the authority, the
evidence of how one was handled (Art. 14, 24)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.cli.common import LangOption, cli_language, console, fail
from jagadata.cli.db import migrated_session
from jagadata.datastores import automation
from jagadata.datastores.dryrun import dry_run
from jagadata.datastores.errors import DatastoreError
from jagadata.datastores.plan import Operation
from jagadata.db.tenancy import scope
from jagadata.i18n import gettext
from jagadata.law.facts import RIGHTS, Right
from jagadata.manifest.schema import Manifest
from jagadata.orgs import service as orgs
from jagadata.orgs.models import Organisation
from jagadata.rights import service
from jagadata.rights.dossier import write_dossier
from jagadata.rights.models import RequestTask, RightsRequest
from jagadata.rights.states import RequestStatus
from jagadata.rights.templating import local_time
from jagadata.rights.workflow import is_open

app = typer.Typer(
    help="Data subject requests: list them, export the evidence of one, and carry one out in "
    "the organisation's mapped databases.",
    no_args_is_help=True,
)

EXIT_BROKEN = 1
"""The dossier was written, but the request's timeline was altered: the evidence is broken."""


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "rights")


def _organisation(session: Session, slug: str, lang: str) -> Organisation:
    organisation = orgs.get_organisation(session=session, slug=slug)
    if organisation is None:
        fail(
            _t(lang, "There is no organisation {slug}.").format(slug=slug),
            hint=_t(lang, "See the registered ones with: jagadata org list"),
        )
    return organisation


def _request(
    session: Session, organisation: Organisation, org: str, reference: str, lang: str
) -> RightsRequest:
    request = session.scalars(
        select(RightsRequest).where(
            RightsRequest.organisation_id == organisation.id,
            RightsRequest.reference == reference.strip().upper(),
        )
    ).first()
    if request is None:
        fail(
            _t(lang, "{organisation} has no request {reference}.").format(
                organisation=org, reference=reference
            ),
            hint=_t(lang, "See its requests with: jagadata request list {organisation}").format(
                organisation=org
            ),
        )
    return request


@app.command("list")
def list_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    open_only: bool = typer.Option(False, "--open", help="Only requests still being handled."),
    lang: str | None = LangOption,
) -> None:
    """The organisation's requests, newest first, with their status and deadline."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation = _organisation(session, org, lang)
        scope(session, organisation.id)
        rows = list(
            session.scalars(
                select(RightsRequest)
                .where(RightsRequest.organisation_id == organisation.id)
                .order_by(RightsRequest.received_at.desc(), RightsRequest.id.desc())
            )
        )
        if open_only:
            rows = [r for r in rows if is_open(RequestStatus(r.status))]
        if not rows:
            console.print(_t(lang, "No requests."))
            return
        table = Table(title=escape(organisation.name))
        for header in (
            _t(lang, "Reference"),
            _t(lang, "Right"),
            _t(lang, "Status"),
            _t(lang, "Received"),
            _t(lang, "Due"),
        ):
            table.add_column(header)
        for row in rows:
            table.add_row(
                row.reference,
                gettext(lang, RIGHTS[Right(row.right)].label),
                row.status,
                local_time(row.received_at, lang, row.zone),
                local_time(row.due_at, lang, row.zone) if row.due_at else "—",
            )
        console.print(table)
        console.print(_t(lang, "{count} request(s).").format(count=len(rows)))


@app.command("dossier")
def dossier_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    reference: str = typer.Argument(..., help="The request's reference, e.g. R-ABCD2345."),
    output: Path = typer.Option(..., "-o", "--output", help="Folder to write the dossier in."),
    personal_data: bool = typer.Option(
        False,
        "--with-personal-data",
        help="Include the person's contact and what they wrote (kept encrypted otherwise).",
    ),
    lang: str | None = LangOption,
) -> None:
    """Write the evidence dossier of one request (HTML and JSON) for the authority; exit 1 if its
    timeline no longer verifies."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation = _organisation(session, org, lang)
        scope(session, organisation.id)
        request = _request(session, organisation, org, reference, lang)
        try:
            json_path, html_path, dossier = write_dossier(
                session, request, output, personal_data=personal_data, lang=lang
            )
        except OSError as error:
            fail(
                _t(lang, "Cannot write the dossier in {folder}: {reason}.").format(
                    folder=output, reason=error.strerror or error
                ),
                hint=_t(lang, "Choose a folder you can write to with -o."),
            )
    console.print(_t(lang, "Dossier written: {path}").format(path=escape(str(html_path))))
    console.print(_t(lang, "Dossier written: {path}").format(path=escape(str(json_path))))
    chain = dossier["chain"]
    if not chain["intact"]:
        console.print(
            "[red]"
            + _t(
                lang,
                "The timeline is broken at entry {sequence}: it was altered after it was written.",
            ).format(sequence=chain["brokenAt"])
            + "[/red]"
        )
        raise typer.Exit(EXIT_BROKEN)
    console.print(
        "[green]"
        + _t(lang, "The timeline is intact: {count} entries verified.").format(
            count=chain["entries"]
        )
        + "[/green]"
    )


def _database_tasks(
    session: Session, request: RightsRequest, manifest: Manifest, system: str | None, lang: str
) -> list[RequestTask]:
    tasks = [
        t
        for t in service.tasks_of(session, request)
        if automation.mapped_system(manifest, t.system) and (system is None or t.system == system)
    ]
    if not tasks:
        fail(
            _t(lang, "Request {reference} has no task in a mapped database{which}.").format(
                reference=request.reference, which=f" ({system})" if system else ""
            ),
            hint=_t(
                lang, "A system needs kind: database and a datastore block (docs/datastores.md)."
            ),
        )
    return tasks


def _operation(value: str | None, lang: str) -> Operation | None:
    if value is None:
        return None
    try:
        return Operation(value)
    except ValueError:
        fail(
            _t(lang, "Unknown operation {value}.").format(value=value),
            hint=_t(lang, "Use one of: {choices}.").format(choices=", ".join(Operation)),
        )


@app.command("plan")
def plan_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    reference: str = typer.Argument(..., help="The request's reference, e.g. R-ABCD2345."),
    system: str | None = typer.Option(None, "--system", help="Only this database system."),
    operation: str | None = typer.Option(
        None, "--operation", help="access, rectify, restrict or erase (default: the request's)."
    ),
    dialect: str = typer.Option(
        "postgresql", "--dialect", help="SQL dialect to show: postgresql, mysql or sqlite."
    ),
    lang: str | None = LangOption,
) -> None:
    """Show what the datastore engine would do for a request, with its SQL, changing nothing."""
    lang = cli_language(lang)
    chosen = _operation(operation, lang)
    if dialect not in ("postgresql", "mysql", "sqlite"):
        fail(
            _t(lang, "Unknown SQL dialect {value}.").format(value=dialect),
            hint=_t(lang, "Use one of: {choices}.").format(choices="postgresql, mysql, sqlite"),
        )
    with migrated_session(lang) as session:
        organisation = _organisation(session, org, lang)
        scope(session, organisation.id)
        request = _request(session, organisation, org, reference, lang)
        _, manifest = service.manifest_in_force(session, organisation)
        for task in _database_tasks(session, request, manifest, system, lang):
            try:
                plan = automation.plan_for(manifest, request, task.system, chosen)
            except DatastoreError as error:
                fail(error.render(lang))
            console.print(
                "[bold]"
                + escape(
                    _t(lang, "{system}: {operation}, {tables} table(s), in this order:").format(
                        system=task.system,
                        operation=plan.operation.value,
                        tables=len(plan.levels),
                    )
                )
                + "[/bold]"
            )
            for name in plan.tables_in_order:
                console.print(
                    escape(
                        _t(lang, "  level {level}: {table}").format(
                            level=plan.levels[name], table=name
                        )
                    )
                )
            for statement in dry_run(plan, dialect):
                console.print(escape(statement.strip()) + ";", highlight=False)
            console.print(_t(lang, "Nothing was run: this is the plan only."))


def _changes(values: list[str], lang: str) -> dict[str, str]:
    changes: dict[str, str] = {}
    for item in values:
        target, sep, value = item.partition("=")
        if not sep or "." not in target:
            fail(
                _t(lang, "Cannot read --set {item}.").format(item=item),
                hint=_t(lang, "Write --set table.column=value."),
            )
        changes[target.strip()] = value
    return changes


@app.command("run")
def run_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    reference: str = typer.Argument(..., help="The request's reference, e.g. R-ABCD2345."),
    system: str | None = typer.Option(None, "--system", help="Only this database system."),
    operation: str | None = typer.Option(
        None, "--operation", help="access, rectify, restrict or erase (default: the request's)."
    ),
    set_: list[str] = typer.Option(
        [], "--set", help="For rectification: table.column=new value (repeat as needed)."
    ),
    lang: str | None = LangOption,
) -> None:
    """Carry out a started request's tasks in its mapped databases now, and tick them."""
    lang = cli_language(lang)
    chosen = _operation(operation, lang)
    changes = _changes(set_, lang)
    with migrated_session(lang) as session:
        organisation = _organisation(session, org, lang)
        scope(session, organisation.id)
        request = _request(session, organisation, org, reference, lang)
        if request.status != RequestStatus.IN_PROGRESS.value:
            fail(
                _t(lang, "Request {reference} is {status}; start it in the console first.").format(
                    reference=request.reference, status=request.status
                )
            )
        _, manifest = service.manifest_in_force(session, organisation)
        failed = 0
        for task in _database_tasks(session, request, manifest, system, lang):
            try:
                run = automation.run_task(
                    session, request, task, manifest, operation=chosen, changes=changes or None
                )
            except DatastoreError as error:
                failed += 1
                console.print("[red]" + escape(error.render(lang)) + "[/red]")
                continue
            console.print(
                escape(
                    _t(lang, "{system}: done — {summary}").format(
                        system=task.system, summary=automation.summary_line(run.report or {}, lang)
                    )
                )
            )
    if failed:
        raise typer.Exit(1)
