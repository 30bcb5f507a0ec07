"""`jagadata datastore connect|discover|scan`: keep a database's connection URL encrypted,
draft a mapping from a live database, and report where a database has drifted from its mapping
or from the policy's promises.

Exit codes: 0 nothing found, 1 findings, 2 the command could not run (a bad URL, a database
that cannot be reached, a manifest or system that is not there). The password of a URL is never
printed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy.orm import Session

from jagadata.audit.service import Actor, record
from jagadata.cli.common import (
    EXIT_FINDINGS,
    LangOption,
    cli_language,
    console,
    err_console,
    fail,
    load_or_exit,
)
from jagadata.cli.db import migrated_session
from jagadata.datastores.demo import create_demo_database
from jagadata.datastores.discover import discover
from jagadata.datastores.errors import DatastoreError
from jagadata.datastores.scan import ScanReport, Severity, scan
from jagadata.datastores.service import resolve_url, store_secret
from jagadata.datastores.sql import connect as connect_database
from jagadata.db.engine import safe_url
from jagadata.db.tenancy import scope
from jagadata.i18n import N_, gettext
from jagadata.manifest.mapping import Connection, Datastore
from jagadata.orgs import service as orgs

app = typer.Typer(
    help="The organisation's databases: store a connection, draft a mapping, scan for drift.",
    no_args_is_help=True,
)

SEVERITY_LABEL = {
    Severity.CRITICAL: N_("critical"),
    Severity.HIGH: N_("high"),
    Severity.MEDIUM: N_("medium"),
}
SEVERITY_STYLE = {Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow"}


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "datastores")


@contextmanager
def _sampling(lang: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr while columns are sampled (on a terminal only); stdout stays
    for the result."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    shown = err_console.is_terminal
    with Progress(*columns, console=err_console, transient=True, disable=not shown) as bar:
        task = bar.add_task(_t(lang, "Sampling columns"), total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


@app.command("discover")
def discover_command(
    url: str = typer.Argument(
        ..., help="The database URL: postgresql+psycopg://…, mysql+pymysql://…, sqlite:///…"
    ),
    sample: int = typer.Option(
        200, "--sample", min=1, max=100_000, help="Values sampled per column."
    ),
    schema: str | None = typer.Option(None, "--schema", help="The schema (PostgreSQL)."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the draft here."),
    lang: str | None = LangOption,
) -> None:
    """Draft a datastore mapping from a live database, each suggestion with its evidence, for a
    person to review; no sampled value is ever written."""
    lang = cli_language(lang)
    try:
        with _sampling(lang) as progress:
            discovery = discover(url, sample=sample, schema=schema, progress=progress)
    except DatastoreError as error:
        fail(error.in_language(lang))
    text = discovery.to_yaml(lang)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(
            _t(lang, "Cannot write the draft to {path}: {reason}.").format(
                path=output, reason=error.strerror or error
            ),
            hint=_t(lang, "Choose a file you can write to with -o."),
        )
    err_console.print(_t(lang, "Draft written: {path}").format(path=escape(str(output))))


@app.command("scan")
def scan_command(
    manifest: Path = typer.Argument(..., help="The manifest file."),
    system_id: str = typer.Argument(..., help="The database system's id in systems:."),
    url: str | None = typer.Option(
        None, "--url", help="The database URL; else the connection's environment variable."
    ),
    org: str | None = typer.Option(
        None, "--org", help="The organisation whose stored secret holds the URL."
    ),
    sample: int = typer.Option(
        200, "--sample", min=1, max=100_000, help="Values sampled per column."
    ),
    output_format: Format = typer.Option(Format.TEXT, "--format", help="text or json."),
    lang: str | None = LangOption,
) -> None:
    """Report drift: personal data the mapping does not declare, data the policy promises is not
    collected, and mapped tables or columns the database no longer has. Exit 1 on findings."""
    lang = cli_language(lang)
    loaded = load_or_exit(manifest, lang)
    system = next((s for s in loaded.manifest.systems if s.id == system_id), None)
    if system is None:
        fail(
            _t(lang, "The manifest has no system {system}.").format(system=system_id),
            hint=_t(lang, "Its systems: {ids}.").format(
                ids=", ".join(s.id for s in loaded.manifest.systems) or "—"
            ),
        )
    if system.datastore is None:
        fail(
            _t(lang, "The system {system} has no datastore mapping to compare with.").format(
                system=system_id
            ),
            hint=_t(lang, "Draft one with: jagadata datastore discover URL"),
        )
    target = url or _url_of(system.datastore, system_id, org, lang)
    try:
        with _sampling(lang) as progress:
            report = scan(
                target, system.datastore, loaded.manifest, sample=sample, progress=progress
            )
    except DatastoreError as error:
        fail(error.in_language(lang))
    if output_format is Format.JSON:
        typer.echo(json.dumps(report.as_json(lang), ensure_ascii=False, indent=2))
    else:
        _print_report(report, lang)
    if report.findings:
        raise typer.Exit(EXIT_FINDINGS)


def _url_of(datastore: Datastore, system_id: str, org: str | None, lang: str) -> str:
    """The URL from the connection's environment variable, or its secret stored for `org`."""
    connection: Connection = datastore.connection
    if connection.env is None:
        if org is None:
            fail(
                _t(
                    lang,
                    "The connection of {system} is a secret held by jagadata: name its "
                    "organisation.",
                ).format(system=system_id),
                hint=_t(lang, "Add --org ORG, or give the database URL with --url."),
            )
        return _stored_url(org, datastore, lang)
    value = os.environ.get(connection.env, "").strip()
    if not value:
        fail(
            _t(lang, "The environment variable {variable} is not set.").format(
                variable=connection.env
            ),
            hint=_t(lang, "Set it to the URL of the database of {system}, or give --url.").format(
                system=system_id
            ),
        )
    return value


def _organisation_id(session: Session, org: str, lang: str) -> int:
    organisation = orgs.get_organisation(session=session, slug=org)
    if organisation is None:
        fail(
            _t(lang, "There is no organisation {slug}.").format(slug=org),
            hint=_t(lang, "See the registered ones with: jagadata org list"),
        )
    return organisation.id


def _stored_url(org: str, datastore: Datastore, lang: str) -> str:
    with migrated_session(lang) as session:
        organisation_id = _organisation_id(session, org, lang)
        scope(session, organisation_id)
        try:
            return resolve_url(session, organisation_id, datastore, org_slug=org)
        except DatastoreError as error:
            fail(error.in_language(lang))


@app.command("demo-database")
def demo_database_command(
    org: str = typer.Argument(..., help="The organisation's slug (the MilleaLab example)."),
    path: Path = typer.Argument(..., help="Where to create the SQLite demo database."),
    name: str = typer.Option("platform_db", "--secret", help="The connection secret's name."),
    lang: str | None = LangOption,
) -> None:
    """Create the generated demo platform database of the MilleaLab example (if missing) and
    connect it under the secret its manifest names."""
    lang = cli_language(lang)
    created = create_demo_database(path.resolve())
    url = f"sqlite:///{path.resolve()}"
    with migrated_session(lang) as session:
        organisation_id = _organisation_id(session, org, lang)
        scope(session, organisation_id)
        store_secret(session, organisation_id, name, url)
        session.commit()
    message = (
        N_("Demo database created and connected as {name}: {path}")
        if created
        else N_("Demo database connected as {name}: {path}")
    )
    console.print(_t(lang, message).format(name=name, path=escape(str(path))))


@app.command("connect")
def connect_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    name: str = typer.Argument(..., help="The secret's name: connection.secret in the manifest."),
    url: str = typer.Argument(
        "-", help="The database URL, or - to read it from standard input (kept out of history)."
    ),
    check: bool = typer.Option(
        True, "--check/--no-check", help="Connect once to make sure the URL works."
    ),
    lang: str | None = LangOption,
) -> None:
    """Keep a database's connection URL encrypted in jagadata, under a name the manifest uses
    (`connection: {secret: NAME}`); the URL never goes in the manifest."""
    lang = cli_language(lang)
    if url == "-":
        url = sys.stdin.readline().strip()
    if not url:
        fail(_t(lang, "No database URL was given."), hint=_t(lang, "Give it as URL or on stdin."))
    if check:
        try:
            with connect_database(url):
                pass
        except DatastoreError as error:
            fail(error.in_language(lang))
    with migrated_session(lang) as session:
        organisation_id = _organisation_id(session, org, lang)
        scope(session, organisation_id)
        try:
            store_secret(session, organisation_id, name, url)
        except DatastoreError as error:
            fail(error.in_language(lang))
        record(
            session=session,
            organisation_id=organisation_id,
            actor=Actor.system("cli"),
            action="datastore.secret.stored",
            target_type="datastore_secret",
            target_id=name,
        )
        session.commit()
    console.print(
        _t(lang, "Stored the connection {name} of {org}, encrypted: {url}").format(
            name=name, org=org, url=escape(safe_url(url))
        )
    )


def _print_report(report: ScanReport, lang: str) -> None:
    for finding in report.findings:
        shown = finding.render(lang)
        label = _t(lang, SEVERITY_LABEL[finding.severity]).upper()
        style = SEVERITY_STYLE[finding.severity]
        console.print(
            f"[{style}]{escape(label)}[/{style}] [bold]{escape(finding.where)}[/bold]: "
            f"{escape(shown['what'])}"
        )
        for line in shown["evidence"]:
            console.print(f"    {escape(line)}")
        console.print(f"    → {escape(shown['todo'])}")
    for promise, detector in report.unchecked:
        note = _t(lang, "Not checked, no detector for it yet: {detector} (promise {promise}).")
        console.print(escape(note.format(detector=detector, promise=promise)))
    values = {"database": report.database, "tables": report.tables, "columns": report.columns}
    if report.findings:
        summary = _t(
            lang, "{count} finding(s) in {database}: {tables} tables, {columns} columns sampled."
        )
        console.print(escape(summary.format(count=len(report.findings), **values)))
    else:
        summary = _t(
            lang,
            "No finding in {database}: {tables} tables, {columns} columns sampled; the mapping "
            "and the policy's promises hold.",
        )
        console.print("[green]" + escape(summary.format(**values)) + "[/green]")
