"""`jagadata retention plan|run`: the rows of an organisation's databases past their retention
period (Art. 42(1)(a), 43(1)(a)), counted with their SQL, then deleted or anonymised."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from jagadata.cli.common import LangOption, cli_language, console, fail
from jagadata.cli.db import migrated_session
from jagadata.datastores.errors import DatastoreError
from jagadata.db.tenancy import scope
from jagadata.i18n import N_, gettext
from jagadata.manifest.schema import Manifest
from jagadata.orgs import service as orgs
from jagadata.orgs.models import Organisation
from jagadata.retention.plan import (
    DECIDE_HINT,
    OPEN_REQUEST_SKIPPED,
    Count,
    RetentionPlan,
    Sweep,
    plan_retention,
    render_error,
)
from jagadata.retention.run import SweepInProgress, run_retention
from jagadata.rights.service import RequestProblem, manifest_in_force

app = typer.Typer(
    help="Retention sweeps: the rows past the periods the manifest promises, counted with "
    "their SQL, then deleted or anonymised in resumable batches.",
    no_args_is_help=True,
)


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "retention")


def _said(lang: str, message: str, values: Mapping[str, Any]) -> str:
    return _t(lang, message).format(**values)


def _load(
    session: Session, org: str, system: str | None, lang: str
) -> tuple[Organisation, Manifest]:
    organisation = orgs.get_organisation(session=session, slug=org)
    if organisation is None:
        fail(
            _t(lang, "There is no organisation {slug}.").format(slug=org),
            hint=_t(lang, "See the registered ones with: jagadata org list"),
        )
    scope(session, organisation.id)
    try:
        _, manifest = manifest_in_force(session, organisation)
    except RequestProblem:
        fail(
            _t(lang, "{slug} has no published manifest, so no retention rule is in force.").format(
                slug=org
            ),
            hint=_t(lang, "Publish one with: jagadata org update MANIFEST"),
        )
    if system is not None and not any(s.id == system and s.datastore for s in manifest.systems):
        fail(
            _t(lang, "{system} is not a database system mapped in the manifest in force.").format(
                system=system
            ),
            hint=_t(lang, "Name a system with a datastore block (docs/datastores.md)."),
        )
    return organisation, manifest


def _action(lang: str, sweep: Sweep) -> str:
    action = _t(lang, "delete") if sweep.action.value == "delete" else _t(lang, "anonymise")
    if sweep.reason:
        action += " — " + _said(lang, sweep.reason, sweep.values)
    return action


def _print_plan(plan: RetentionPlan, lang: str, *, sql: bool) -> None:
    table = Table(
        title=_t(lang, "Due at {moment}").format(moment=f"{plan.cutoff:%Y-%m-%d %H:%M} UTC")
    )
    headings = (N_("Table"), N_("Rule"), N_("Due"), N_("Left for an open request"), N_("Action"))
    for heading in headings:
        table.add_column(_t(lang, heading))
    for count in plan.counts:
        sweep = count.sweep
        table.add_row(
            escape(f"{sweep.system}.{sweep.table.name}"),
            escape(f"{sweep.rule.id} ({sweep.rule.period})"),
            str(count.due),
            str(count.skipped),
            escape(_action(lang, sweep)),
        )
    console.print(table)
    if sql:
        for count in plan.counts:
            _print_sql(count, lang)
    _print_notes(plan, lang)


def _print_sql(count: Count, lang: str) -> None:
    sweep = count.sweep
    console.print(
        "[bold]"
        + escape(
            _t(lang, "{table}: rows whose {since} is before {threshold}").format(
                table=f"{sweep.system}.{sweep.table.name}",
                since=sweep.since,
                threshold=f"{sweep.threshold:%Y-%m-%d %H:%M} UTC",
            )
        )
        + "[/bold]"
    )
    for statement in count.sql:
        console.print(escape(" ".join(statement.split())) + ";", highlight=False)


def _print_notes(plan: RetentionPlan, lang: str) -> None:
    if any(c.skipped for c in plan.counts):
        console.print(
            escape(_t(lang, "Left for an open request: ") + _t(lang, OPEN_REQUEST_SKIPPED))
        )
    for waiting in plan.waiting:
        console.print(escape(f"{waiting.system}.{waiting.table}: " + _t(lang, waiting.message)))
    for what, job in plan.built_in:
        console.print(
            escape(
                _t(lang, "jagadata's own {what}: handled by the job {job}").format(
                    what=_t(lang, what), job=job
                )
            )
        )
    for _where, error in plan.problems:
        console.print("[red]" + escape(render_error(error, lang)) + "[/red]")
    if plan.conflicts:
        console.print("[bold]" + escape(_t(lang, "Conflicts for a person to decide:")) + "[/bold]")
        for conflict in plan.conflicts:
            console.print(
                escape(f"  {conflict.where}: " + _said(lang, conflict.message, conflict.values))
            )
        console.print(escape("  " + _t(lang, DECIDE_HINT)))


@app.command("plan")
def plan_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    system: str | None = typer.Option(None, "--system", help="Only this database system."),
    lang: str | None = LangOption,
) -> None:
    """Count the rows past their retention period, table by table, with the SQL; change nothing."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation, manifest = _load(session, org, system, lang)
        plan = plan_retention(session, organisation, manifest, system=system)
        session.rollback()
    _print_plan(plan, lang, sql=True)
    console.print(_t(lang, "Nothing was changed: this is the plan only."))
    if plan.problems:
        raise typer.Exit(1)


@app.command("run")
def run_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    system: str | None = typer.Option(None, "--system", help="Only this database system."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    lang: str | None = LangOption,
) -> None:
    """Delete or anonymise the rows past their retention period, in resumable batches."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation, manifest = _load(session, org, system, lang)
        plan = plan_retention(session, organisation, manifest, system=system)
        session.rollback()
        _print_plan(plan, lang, sql=False)
        total = sum(c.due - c.skipped for c in plan.counts)
        if (
            not yes
            and total
            and not typer.confirm(
                _t(lang, "Delete or anonymise these {count} rows now?").format(count=total)
            )
        ):
            raise typer.Exit(1)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task(_t(lang, "Sweeping"), total=max(total, 1))

            def advance(sweep: Sweep, seen: int) -> None:
                progress.update(
                    task, advance=seen, description=f"{sweep.system}.{sweep.table.name}"
                )

            try:
                run = run_retention(
                    session, organisation, manifest, system=system, on_batch=advance
                )
            except SweepInProgress as busy:
                fail(busy.render(lang))
            except DatastoreError as error:
                fail(render_error(error, lang))
        _print_run(run.report or {}, lang)
        if run.error:
            raise typer.Exit(1)


def _print_run(report: Mapping[str, Any], lang: str) -> None:
    for entry in report.get("tables", []):
        verb = _t(lang, "deleted") if entry["action"] == "delete" else _t(lang, "anonymised")
        console.print(
            escape(
                _t(lang, "{table}: {done} {verb}, {skipped} left for an open request").format(
                    table=f"{entry['system']}.{entry['table']}",
                    done=entry["done"],
                    verb=verb,
                    skipped=entry["skipped"],
                )
            )
        )
    for error in report.get("errors", []):
        stopped = error.get("note") or ""
        note = " — " + _t(lang, stopped) if stopped else ""
        console.print("[red]" + escape(f"{error['where']}: {error['message']}{note}") + "[/red]")
    console.print(_t(lang, "The report is kept as evidence; the console shows it under Retention."))
