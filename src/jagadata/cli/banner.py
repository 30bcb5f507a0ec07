"""`jagadata banner build ORG -o DIR`: the cookie banner as static files, for a site jagadata
does not host (WordPress on shared hosting, a static site). The script records each choice at
this service's base_url, in the organisation's ledger."""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path
from typing import Final

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from jagadata.banner.api import gpc_statement
from jagadata.banner.config import Banner, banner_of, record_url
from jagadata.banner.script import render
from jagadata.cli.common import LangOption, cli_language, console, fail
from jagadata.cli.db import migrated_session
from jagadata.config import get_settings
from jagadata.db.base import utcnow
from jagadata.i18n import gettext
from jagadata.orgs import service as orgs
from jagadata.orgs.service import today_in_indonesia

app = typer.Typer(
    help="The cookie banner: build it as static files for a site jagadata does not host.",
    no_args_is_help=True,
)

FILES: Final = ("banner.js", "gpc.json", "README.md")
LOCAL_HOSTS: Final = ("://127.", "://localhost", "://0.0.0.0", "://[::1]")


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "banner")


def readme(banner: Banner, base_url: str, lang: str) -> str:
    """The snippet and the steps, for the person who puts the files on the site."""
    return "\n".join(
        [
            "# " + _t(lang, "Cookie banner of {organisation}").format(organisation=banner.name),
            "",
            _t(
                lang,
                "Manifest version {version}. Every choice is recorded in the consent ledger at "
                "{url}.",
            ).format(version=banner.version, url=base_url),
            "",
            "## " + _t(lang, "1. Put the files on the site"),
            "",
            _t(
                lang,
                "Upload banner.js (for example to /jagadata/banner.js) and gpc.json to "
                "/.well-known/gpc.json.",
            ),
            "",
            "## " + _t(lang, "2. Load the banner on every page, before other scripts"),
            "",
            "```html",
            '<script src="/jagadata/banner.js" defer></script>',
            "```",
            "",
            "## " + _t(lang, "3. Mark each script that sets optional cookies"),
            "",
            "```html",
            '<script type="text/plain" data-category="analytics" src="https://example.com/a.js">'
            "</script>",
            "```",
            "",
            _t(lang, "Categories of this banner: {categories}.").format(
                categories=", ".join(c.key for c in banner.asked())
            ),
            "",
            "## " + _t(lang, "4. Let people change their mind"),
            "",
            "```html",
            '<a href="#" data-jagadata-open>Pengaturan privasi</a>',
            "```",
            "",
            _t(
                lang,
                "Build the banner again after each new manifest version: a version that needs "
                "fresh consent asks visitors again.",
            ),
            "",
        ]
    )


@app.command("build")
def build_command(
    org: str = typer.Argument(..., help="The organisation's slug."),
    output: Path = typer.Option(..., "--output", "-o", help="Directory to write the files to."),
    lang: str | None = LangOption,
) -> None:
    """Write banner.js, gpc.json and a README with the snippet to DIR."""
    lang = cli_language(lang)
    base_url = get_settings().base_url
    if output.exists() and not output.is_dir():
        fail(
            _t(lang, "{path} is a file, not a directory.").format(path=output),
            hint=_t(lang, "Name a directory: it is created if it does not exist."),
        )
    now = utcnow()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(_t(lang, "Building the banner"), total=len(FILES) + 1)
        with migrated_session(lang) as session:
            organisation = orgs.get_organisation(session=session, slug=org)
            if organisation is None:
                fail(
                    _t(lang, "There is no organisation {slug}.").format(slug=org),
                    hint=_t(lang, "See the registered ones with: jagadata org list"),
                )
            banner = banner_of(
                session=session, organisation=organisation, base_url=base_url, now=now
            )
            session.commit()
        if banner is None:
            fail(
                _t(lang, "{slug} has no manifest version yet.").format(slug=org),
                hint=_t(lang, "Publish one with: jagadata org add MANIFEST.yaml"),
            )
        progress.advance(task)
        contents = {
            "banner.js": render(banner, api=record_url(base_url, banner.organisation)),
            "gpc.json": json.dumps(gpc_statement(today_in_indonesia(now))) + "\n",
            "README.md": readme(banner, base_url, lang),
        }
        try:
            output.mkdir(parents=True, exist_ok=True)
            written = []
            for name in FILES:
                written.append(_write(output / name, contents[name]))
                progress.advance(task)
            for temporary, final in written:
                os.replace(temporary, final)
        except OSError as error:
            fail(
                _t(lang, "The files could not be written to {path}: {reason}.").format(
                    path=output, reason=error.strerror or error
                ),
                hint=_t(lang, "Check that the directory is writable; nothing was replaced."),
            )
    table = Table(
        title=_t(lang, "Banner of {slug}, version {version}").format(
            slug=banner.organisation, version=banner.version
        )
    )
    table.add_column(_t(lang, "file"))
    table.add_column(_t(lang, "bytes"), justify="right")
    table.add_column(_t(lang, "gzip"), justify="right")
    for name in FILES:
        data = contents[name].encode("utf-8")
        table.add_row(name, str(len(data)), str(len(gzip.compress(data))))
    console.print(table)
    console.print(_t(lang, "Written to {path}.").format(path=escape(str(output.resolve()))))
    console.print(
        _t(lang, "Choices are recorded at {url}.").format(
            url=record_url(base_url, banner.organisation)
        )
    )
    if any(local in base_url for local in LOCAL_HOSTS):
        console.print(
            "[yellow]"
            + escape(
                _t(
                    lang,
                    "JAGADATA_BASE_URL is {url}: visitors' browsers cannot reach it. Set it to "
                    "the service's public address and build again.",
                ).format(url=base_url)
            )
            + "[/yellow]"
        )


def _write(path: Path, text: str) -> tuple[str, Path]:
    """Write next to `path` under a temporary name; renamed only once every file is written."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)  # read by the site's web server
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary, path
