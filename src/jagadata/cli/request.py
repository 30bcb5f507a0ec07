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
from jagadata.db.tenancy import scope
from jagadata.i18n import gettext
from jagadata.law.facts import RIGHTS, Right
from jagadata.orgs import service as orgs
from jagadata.orgs.models import Organisation
from jagadata.rights.dossier import write_dossier
from jagadata.rights.models import RightsRequest
from jagadata.rights.states import RequestStatus
from jagadata.rights.templating import local_time
from jagadata.rights.workflow import is_open

app = typer.Typer(
    help="Data subject requests: list them, export the evidence of one.", no_args_is_help=True
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
