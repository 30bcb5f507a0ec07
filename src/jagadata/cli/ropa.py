"""`jagadata ropa`: the record of processing activities (Art. 31 UU PDP) from the manifest."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape

from jagadata.cli.common import cli_language, err_console, fail, load_or_exit
from jagadata.cli.db import migrated_session
from jagadata.db.tenancy import scope
from jagadata.i18n import LANGUAGES
from jagadata.orgs import service as orgs
from jagadata.ropa import service as dpia
from jagadata.ropa.record import _t, build_record
from jagadata.ropa.render import RecordFormat, render_record
from jagadata.ropa.states import DpiaSummary


def ropa_command(
    manifest: Path = typer.Argument(..., help="The manifest file."),
    output_format: RecordFormat = typer.Option(
        RecordFormat.HTML, "--format", "-f", help="html (printable page), csv or xlsx."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write the record to this file instead of the screen."
    ),
    lang: str = typer.Option(
        "id", "--lang", help="Language of the record: id (authoritative), en or fr."
    ),
    org: str | None = typer.Option(
        None,
        "--org",
        help="Add where each DPIA stands in this organisation's workspace in jagadata's database.",
    ),
) -> None:
    """Write the record of processing activities (Art. 31 UU PDP) of a manifest."""
    messages = cli_language()
    if lang not in LANGUAGES:
        fail(
            _t(messages, "Unknown language “{lang}”; use one of: {languages}.").format(
                lang=lang, languages=", ".join(LANGUAGES)
            )
        )
    if output_format is RecordFormat.XLSX and output is None:
        fail(
            _t(messages, "A workbook cannot be shown on the screen."),
            hint=_t(messages, "Name the file to write with -o, e.g. -o record.xlsx."),
        )
    loaded = load_or_exit(manifest, messages)
    dpias = None
    if org is not None:
        if org != loaded.manifest.organisation.slug:
            fail(
                _t(messages, "The manifest {file} is {slug}'s, not {org}'s.").format(
                    file=loaded.file, slug=loaded.manifest.organisation.slug, org=org
                ),
                hint=_t(messages, "Give --org the slug of the manifest's organisation."),
            )
        dpias = _workspace(org, messages)
    content = render_record(build_record(loaded, lang, dpias=dpias), output_format)
    if output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(content)
    except OSError as error:
        fail(
            _t(messages, "Could not write {path}: {reason}.").format(
                path=output, reason=error.strerror or error.__class__.__name__
            ),
            hint=_t(messages, "Check that the folder exists and you may write to it."),
        )
    err_console.print(
        escape(_t(messages, "Record of processing written to {path}.").format(path=output))
    )


def _workspace(slug: str, lang: str) -> dict[str, DpiaSummary]:
    """Where each purpose's assessment stands in the organisation's DPIA workspace."""
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
        return dpia.summaries(session=session)
