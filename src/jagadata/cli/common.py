"""What every command shares: the console, the language, loading a manifest or exiting cleanly."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from jagadata.config import get_settings
from jagadata.i18n import gettext, normalise_language
from jagadata.manifest import LoadedManifest, ManifestError, ManifestInvalid, load_manifest

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INVALID = 2

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def cli_language(explicit: str | None = None) -> str:
    """The command line's language: --lang, else JAGADATA_LANG, else Indonesian."""
    return normalise_language(explicit or get_settings().lang)


def _t(lang: str, message: str) -> str:
    return gettext(lang, message)


def print_manifest_errors(
    errors: list[ManifestError] | tuple[ManifestError, ...], lang: str
) -> None:
    """Every problem, each with file:line:column, the field path, what was expected and a hint."""
    label_error, label_expected, label_hint = (
        _t(lang, "error"),
        _t(lang, "expected"),
        _t(lang, "hint"),
    )
    for error in errors:
        err_console.print(
            f"[bold]{escape(error.location)}[/bold]: [red]{label_error}[/red] "
            f"[cyan]{escape(error.field_path)}[/cyan]: {escape(error.message)}"
        )
        if error.expected:
            err_console.print(f"    {label_expected}: {escape(error.expected)}")
        if error.hint:
            err_console.print(f"    {label_hint}: {escape(error.hint)}")
    count = len(errors)
    err_console.print(
        _t(lang, "{count} problem(s) in the manifest; nothing was changed.").format(count=count)
    )


def load_or_exit(path: Path, lang: str) -> LoadedManifest:
    try:
        return load_manifest(path, lang=lang)
    except ManifestInvalid as invalid:
        print_manifest_errors(list(invalid.errors), lang)
        raise typer.Exit(EXIT_INVALID) from None


def fail(message: str, *, hint: str | None = None, code: int = EXIT_INVALID) -> NoReturn:
    err_console.print(f"[red]{escape(message)}[/red]")
    if hint:
        err_console.print(escape(hint))
    sys.stderr.flush()
    raise typer.Exit(code)


def require_keyring(lang: str) -> None:
    """Refuse to start without a usable keyring (in production: an explicit one)."""
    from jagadata.crypto import KeyringError, get_keyring

    try:
        get_keyring()
    except KeyringError as error:
        fail(
            _t(lang, "Cannot start: {reason}.").format(reason=error.in_language(lang).rstrip(".")),
            hint=_t(lang, "See docs/deployment.md, section Keys."),
        )


LangOption = typer.Option(
    None, "--lang", help="Language of messages: id or en (default JAGADATA_LANG, else id)."
)
