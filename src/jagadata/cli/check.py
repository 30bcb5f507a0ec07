"""`jagadata check`: lint a manifest against UU PDP and report in text, JSON or SARIF."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TextIO

import typer
from rich.console import Console
from rich.markup import escape

from jagadata.checks import Severity, run_checks
from jagadata.checks.model import _t
from jagadata.checks.reporters import dumps, render_text, summary, to_json, to_sarif
from jagadata.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    LangOption,
    cli_language,
    console,
    err_console,
    fail,
    load_or_exit,
)
from jagadata.cli.db import migrated_session
from jagadata.db.tenancy import scope
from jagadata.orgs import service as orgs
from jagadata.ropa import service as dpia
from jagadata.ropa.states import DpiaState


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


class FailOn(StrEnum):
    ERROR = "error"
    WARNING = "warning"


def check_command(
    manifest: Path = typer.Argument(..., help="The manifest file."),
    output_format: OutputFormat = typer.Option(
        OutputFormat.TEXT, "--format", "-f", help="text for people, json or sarif for tools."
    ),
    lang: str | None = LangOption,
    fail_on: FailOn = typer.Option(
        FailOn.ERROR, "--fail-on", help="Exit 1 when a finding is at least this severe."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write the report to this file instead of the screen."
    ),
    org: str | None = typer.Option(
        None,
        "--org",
        help="Read this organisation's DPIA workspace from jagadata's database: a DPIA signed "
        "off there counts as done, one in draft is reported (Art. 34).",
    ),
) -> None:
    """Check a manifest against UU PDP: exit 0 if clean, 1 with findings, 2 if it is invalid."""
    language = cli_language(lang)
    loaded = load_or_exit(manifest, language)
    states = None
    if org is not None:
        if org != loaded.manifest.organisation.slug:
            fail(
                _t(language, "The manifest {file} is {slug}'s, not {org}'s.").format(
                    file=loaded.file, slug=loaded.manifest.organisation.slug, org=org
                ),
                hint=_t(language, "Give --org the slug of the manifest's organisation."),
            )
        states = _dpia_states(org, language)
    findings = run_checks(loaded, lang=language, dpia_states=states)
    file = loaded.file
    if output_format is OutputFormat.TEXT:
        if output is None:
            render_text(findings, console=console, file=file, lang=language)
        else:
            _write(
                output,
                language,
                lambda handle: render_text(
                    findings,
                    console=Console(
                        file=handle, no_color=True, width=10_000, soft_wrap=True, highlight=False
                    ),
                    file=file,
                    lang=language,
                ),
            )
    else:
        build = to_json if output_format is OutputFormat.JSON else to_sarif
        text = dumps(build(findings, file=file, lang=language))
        if output is None:
            typer.echo(text, nl=False)
        else:
            _write(output, language, lambda handle: handle.write(text))
    if output is not None:
        err_console.print(escape(summary(findings, file=file, lang=language)))
        err_console.print(escape(_t(language, "Report written to {path}.").format(path=output)))
    threshold = Severity(fail_on.value)
    failing = any(f.severity.at_least(threshold) for f in findings)
    raise typer.Exit(EXIT_FINDINGS if failing else EXIT_OK)


def _dpia_states(slug: str, lang: str) -> dict[str, DpiaState]:
    """The organisation's assessments in the DPIA workspace, by purpose id."""
    with migrated_session(lang) as session:
        organisation = orgs.get_organisation(session=session, slug=slug)
        if organisation is None:
            fail(
                _t(lang, "There is no organisation {slug} in jagadata's database.").format(
                    slug=slug
                ),
                hint=_t(lang, "See the registered ones with: jagadata org list"),
            )
        scope(session, organisation.id)
        return dpia.states(session=session)


def _write(path: Path, lang: str, write: Callable[[TextIO], object]) -> None:
    try:
        with path.open("w", encoding="utf-8") as handle:
            write(handle)
    except OSError as exc:
        fail(
            _t(lang, "Cannot write the report to {path}: {reason}.").format(
                path=path, reason=exc.strerror or exc.__class__.__name__
            ),
            hint=_t(lang, "Check that the folder exists and you may write to it."),
        )
