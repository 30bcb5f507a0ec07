"""`jagadata audit verify|export`: prove the audit trail is intact; hand it to an auditor."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy.orm import Session

from jagadata.audit.export import ExportFormat, export_entries
from jagadata.audit.service import Actor, Problem, VerifyResult, chain_length, record, verify_chain
from jagadata.cli.common import LangOption, cli_language, console, err_console, fail
from jagadata.cli.db import migrated_session
from jagadata.db import atomic
from jagadata.db.tenancy import ALL_ORGANISATIONS_KEY
from jagadata.i18n import N_, gettext
from jagadata.orgs import service as orgs
from jagadata.orgs.models import Organisation

app = typer.Typer(
    help="The audit trail: prove it is intact, export it for an auditor.", no_args_is_help=True
)

PROGRESS_FROM = 5000
"""Chains at least this long show a progress bar while they are verified."""

PROBLEMS = {
    Problem.HASH_MISMATCH: N_("its contents no longer match its hash: it was changed"),
    Problem.PREV_HASH_MISMATCH: N_("it does not carry the hash of the entry before it"),
    Problem.GAP: N_("it is missing: the next entry found is {found}"),
    Problem.HEAD_MISMATCH: N_(
        "the chain should end at entry {expected} but ends at entry {found}: "
        "its newest entries were removed or added"
    ),
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message)


@contextmanager
def _cli_actor_session(lang: str) -> Iterator[Session]:
    """System work over every organisation: the trail of each, and of no organisation."""
    with migrated_session(lang) as session:
        session.info[ALL_ORGANISATIONS_KEY] = True
        yield session


def _organisation_or_exit(session: Session, slug: str, lang: str) -> Organisation:
    organisation = orgs.get_organisation(session=session, slug=slug)
    if organisation is None:
        fail(
            _t(lang, "There is no organisation {slug}.").format(slug=slug),
            hint=_t(lang, "See the registered ones with: jagadata org list"),
        )
    return organisation


@app.command("verify")
def verify_command(
    org: str | None = typer.Option(
        None, "--org", help="Only this organisation's chain (default: every chain)."
    ),
    lang: str | None = LangOption,
) -> None:
    """Recompute every hash of the audit trail; exit 1 naming the first broken link per chain."""
    lang = cli_language(lang)
    with _cli_actor_session(lang) as session:
        if org is not None:
            organisation = _organisation_or_exit(session, org, lang)
            chains: list[tuple[str, int | None]] = [(organisation.slug, organisation.id)]
        else:
            chains = [(o.slug, o.id) for o in orgs.list_organisations(session=session)]
            chains.append((_t(lang, "system events"), None))
        results = [_verify_one(session, label, chain) for label, chain in chains]
    for (label, _), result in zip(chains, results, strict=True):
        _report(label, result, lang)
    if not all(result.ok for result in results):
        raise typer.Exit(1)


def _verify_one(session: Session, label: str, organisation_id: int | None) -> VerifyResult:
    total = chain_length(session=session, organisation_id=organisation_id)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
        disable=total < PROGRESS_FROM,
    ) as progress:
        task = progress.add_task(escape(label), total=total)
        return verify_chain(
            session=session,
            organisation_id=organisation_id,
            progress=lambda done: progress.advance(task, done),
        )


def _report(label: str, result: VerifyResult, lang: str) -> None:
    if result.broken is None:
        console.print(
            "[green]"
            + _t(lang, "{chain}: {count} entries verified; the chain is intact.").format(
                chain=escape(label), count=result.checked
            )
            + "[/green]"
        )
        return
    link = result.broken
    problem = _t(lang, PROBLEMS[link.problem]).format(expected=link.expected, found=link.found)
    console.print(
        "[red]"
        + _t(lang, "{chain}: the chain is broken at entry {sequence}: {problem}.").format(
            chain=escape(label), sequence=link.sequence, problem=escape(problem)
        )
        + "[/red]"
    )


@app.command("export")
def export_command(
    org: str = typer.Option(..., "--org", help="The organisation whose trail to export."),
    fmt: ExportFormat = typer.Option(
        ExportFormat.CSV, "--format", help="csv to read, json (JSON lines) to re-verify."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write (default: standard output)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="From this date or time (UTC unless it says otherwise)."
    ),
    until: str | None = typer.Option(None, "--until", help="Before this date or time (excluded)."),
    lang: str | None = LangOption,
) -> None:
    """Export an organisation's audit trail in chain order, for an auditor."""
    lang = cli_language(lang)
    start, end = _instant(since, lang), _instant(until, lang)
    with migrated_session(lang) as session:
        organisation = _organisation_or_exit(session, org, lang)
        with _destination(output, lang) as out:
            count = export_entries(
                session=session,
                organisation_id=organisation.id,
                out=out,
                fmt=fmt,
                since=start,
                until=end,
            )
        with atomic(session):
            record(
                session=session,
                organisation_id=organisation.id,
                actor=Actor.system("cli"),
                action="audit.exported",
                details={
                    "format": fmt.value,
                    "since": start.isoformat() if start else None,
                    "until": end.isoformat() if end else None,
                    "entries": count,
                },
            )
    err_console.print(
        _t(lang, "Exported {count} entries of {slug}.").format(count=count, slug=organisation.slug)
    )


@contextmanager
def _destination(output: Path | None, lang: str) -> Iterator[TextIO]:
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        handle = output.open("w", encoding="utf-8", newline="")
    except OSError as error:
        fail(
            _t(lang, "Cannot write {path}: {reason}.").format(
                path=output, reason=error.strerror or error
            )
        )
    with handle:
        yield handle


def _instant(value: str | None, lang: str) -> datetime | None:
    """An ISO 8601 date or time; without a UTC offset it is read as UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        fail(
            _t(
                lang,
                "Not a date or time: {value}. Write it as 2026-04-28 or 2026-04-28T09:30+07:00.",
            ).format(value=value)
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
