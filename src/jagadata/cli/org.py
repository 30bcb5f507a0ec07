"""`jagadata org ...`: register organisations and publish new versions of their manifest."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from jagadata.checks import Severity, run_checks
from jagadata.cli.common import LangOption, cli_language, console, fail, load_or_exit
from jagadata.cli.db import migrated_session
from jagadata.config import get_settings
from jagadata.i18n import gettext
from jagadata.manifest.loader import LoadedManifest
from jagadata.orgs import service
from jagadata.orgs.service import Outcome, Publication
from jagadata.web.templating import long_date

app = typer.Typer(help="Organisations and their manifest versions.", no_args_is_help=True)

ManifestArgument = typer.Argument(..., help="The organisation's privacy manifest (YAML).")
WithErrorsOption = typer.Option(
    False,
    "--publish-with-errors",
    help="Publish even though `jagadata check` finds errors against UU PDP (not advised).",
)


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "web")


def centre_url(slug: str) -> str:
    """The public address of an organisation's privacy centre, from JAGADATA_BASE_URL."""
    return f"{get_settings().base_url.rstrip('/')}/o/{slug}/"


@app.command("add")
def add_command(
    manifest: Path = ManifestArgument,
    or_update: bool = typer.Option(
        False, "--or-update", help="If the organisation exists, publish the manifest as an update."
    ),
    with_errors: bool = WithErrorsOption,
    lang: str | None = LangOption,
) -> None:
    """Register an organisation from its manifest and publish its policy (version 1)."""
    lang = cli_language(lang)
    loaded = load_or_exit(manifest, lang)
    _check_before_publishing(loaded, with_errors, lang)
    slug = loaded.manifest.organisation.slug
    with migrated_session(lang) as session:
        try:
            publication = service.add_organisation(session=session, loaded=loaded)
        except service.OrganisationExists:
            if not or_update:
                fail(
                    _t(lang, "The organisation {slug} already exists.").format(slug=slug),
                    hint=_t(
                        lang,
                        "To publish a new version of its manifest, run: jagadata org update {path}",
                    ).format(path=manifest),
                )
            publication = _update(session, loaded, manifest, lang)
    _report(publication, lang)


@app.command("update")
def update_command(
    manifest: Path = ManifestArgument,
    with_errors: bool = WithErrorsOption,
    lang: str | None = LangOption,
) -> None:
    """Publish a changed manifest as the organisation's next version (nothing if unchanged)."""
    lang = cli_language(lang)
    loaded = load_or_exit(manifest, lang)
    _check_before_publishing(loaded, with_errors, lang)
    with migrated_session(lang) as session:
        publication = _update(session, loaded, manifest, lang)
    _report(publication, lang)


def _check_before_publishing(loaded: LoadedManifest, with_errors: bool, lang: str) -> None:
    """A policy that breaks UU PDP is not published by accident: errors stop, warnings inform."""
    findings = run_checks(loaded, lang=lang)
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    if errors and not with_errors:
        fail(
            _t(
                lang, "The manifest has {errors} error(s) against UU PDP; nothing was published."
            ).format(errors=errors),
            hint=_t(lang, "See and fix them with: jagadata check {path}").format(path=loaded.file),
        )
    if errors or warnings:
        console.print(
            _t(
                lang,
                "jagadata check: {errors} error(s), {warnings} warning(s); "
                "details with: jagadata check {path}",
            ).format(errors=errors, warnings=warnings, path=loaded.file)
        )


def _update(session: Session, loaded: LoadedManifest, manifest: Path, lang: str) -> Publication:
    slug = loaded.manifest.organisation.slug
    try:
        return service.update_organisation(session=session, loaded=loaded)
    except service.OrganisationNotFound:
        fail(
            _t(lang, "There is no organisation {slug} yet.").format(slug=slug),
            hint=_t(lang, "Add it first: jagadata org add {path}").format(path=manifest),
        )
    except service.ManifestAlreadyPublished as earlier:
        fail(
            _t(
                lang, "This manifest is identical to version {number} of {slug}, published earlier."
            ).format(number=earlier.number, slug=slug),
            hint=_t(
                lang,
                "To return to that text, publish it as a new version with a new "
                "effective date (policy.effective).",
            ),
        )


def _report(publication: Publication, lang: str) -> None:
    organisation, version = publication.organisation, publication.version
    languages = ", ".join(sorted({p.lang for p in publication.policies}, key="idenfr".find))
    values = {
        "name": escape(organisation.name),
        "slug": organisation.slug,
        "number": version.number,
        "date": long_date(version.effective, lang),
        "languages": languages,
    }
    if publication.outcome is Outcome.UNCHANGED:
        console.print(
            _t(
                lang, "{slug}: the manifest is unchanged (version {number}); nothing was published."
            ).format(**values)
        )
        return
    if publication.outcome is Outcome.ADDED:
        message = _t(
            lang,
            "Added {name} ({slug}): version {number}, in force from {date}; "
            "policy published in {languages}.",
        )
    else:
        message = _t(
            lang,
            "Published version {number} of {slug}, in force from {date}; policy "
            "published in {languages}.",
        )
    console.print("[green]" + message.format(**values) + "[/green]")
    console.print(_t(lang, "Privacy centre: {url}").format(url=centre_url(organisation.slug)))


@app.command("list")
def list_command(lang: str | None = LangOption) -> None:
    """List the organisations, their version in force and their privacy centre."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisations = service.list_organisations(session=session)
        if not organisations:
            console.print(_t(lang, "No organisation yet. Add one with: jagadata org add MANIFEST"))
            return
        counts = service.version_counts(session=session)
        table = Table(title=_t(lang, "Organisations"))
        table.add_column(_t(lang, "Slug"), no_wrap=True)
        table.add_column(_t(lang, "Name"), overflow="fold")
        table.add_column(_t(lang, "Versions"), justify="right")
        table.add_column(_t(lang, "In force"), overflow="fold")
        centres = []
        for organisation in organisations:
            current = service.current_version(session=session, organisation=organisation)
            in_force = (
                _t(lang, "version {number} since {date}").format(
                    number=current.number, date=long_date(current.effective, lang)
                )
                if current
                else "-"
            )
            table.add_row(
                organisation.slug,
                escape(organisation.name),
                str(counts.get(organisation.id, 0)),
                in_force,
            )
            centres.append(
                _t(lang, "Privacy centre of {name}: {url}").format(
                    name=escape(organisation.name), url=centre_url(organisation.slug)
                )
            )
    console.print(table)
    for line in centres:
        console.print(line)


@app.command("versions")
def versions_command(
    slug: str = typer.Argument(..., help="The organisation's slug."), lang: str | None = LangOption
) -> None:
    """List every published version of an organisation's manifest, newest first."""
    lang = cli_language(lang)
    with migrated_session(lang) as session:
        organisation = service.get_organisation(session=session, slug=slug)
        if organisation is None:
            fail(
                _t(lang, "There is no organisation {slug}.").format(slug=slug),
                hint=_t(lang, "See the registered ones with: jagadata org list"),
            )
        current = service.current_version(session=session, organisation=organisation)
        table = Table(title=escape(organisation.name))
        for header in (
            _t(lang, "Version"),
            _t(lang, "Effective"),
            _t(lang, "Published"),
            _t(lang, "Manifest SHA-256"),
        ):
            table.add_column(header, overflow="fold")
        for version in service.policy_history(session=session, organisation=organisation):
            marker = " *" if current and version.number == current.number else ""
            table.add_row(
                f"{version.number}{marker}",
                long_date(version.effective, lang),
                long_date(service.today_in_indonesia(version.created_at), lang),
                version.content_hash[:16],
            )
    console.print(table)
    console.print(_t(lang, "* the version in force today"))
