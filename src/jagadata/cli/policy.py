"""`jagadata policy ...`: render the published policy and compare two versions of a manifest.

`policy diff` exits 0 when nothing material changed, 1 when a change must be announced before
it applies (Art. 21(2) UU PDP), 2 when a manifest is invalid.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape

from jagadata.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    LangOption,
    cli_language,
    err_console,
    fail,
    load_or_exit,
)
from jagadata.i18n import LANGUAGES
from jagadata.policy.changes import NOTICE, PolicyDiff
from jagadata.policy.diff import diff_manifests
from jagadata.policy.labels import _t
from jagadata.policy.render import render_policy

app = typer.Typer(help="Render the published policy and compare versions.", no_args_is_help=True)


class PolicyFormatOption(StrEnum):
    HTML = "html"
    MD = "md"


class DiffFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@app.command("render")
def render_command(
    manifest: Path = typer.Argument(..., help="The manifest file."),
    lang: str = typer.Option("id", "--lang", help="Language of the policy: id, en or fr."),
    output_format: PolicyFormatOption = typer.Option(
        PolicyFormatOption.HTML, "--format", "-f", help="html (a whole page) or md (Markdown)."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write the policy to this file instead of the screen."
    ),
) -> None:
    """Render the privacy policy of a manifest in one of its languages."""
    messages = cli_language()
    loaded = load_or_exit(manifest, messages)
    available = loaded.manifest.languages
    if lang not in available:
        fail(
            _t(messages, "The policy is not published in “{lang}”.").format(lang=lang),
            hint=_t(
                messages,
                "Languages in {file}: {languages}. Use --lang with one of them, "
                "or add the language to `languages` in the manifest.",
            ).format(file=loaded.file, languages=", ".join(available)),
        )
    text = render_policy(loaded.manifest, lang=lang, fmt=output_format.value)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(
            _t(messages, "Could not write {path}: {error}.").format(
                path=output, error=error.strerror or error
            )
        )
    err_console.print(escape(_t(messages, "Policy written to {path}.").format(path=output)))


@app.command("diff")
def diff_command(
    old: Path = typer.Argument(..., help="The manifest as it was (the published version)."),
    new: Path = typer.Argument(..., help="The manifest as it will be."),
    lang: str | None = LangOption,
    output_format: DiffFormat = typer.Option(
        DiffFormat.TEXT, "--format", "-f", help="text for people, json for tools."
    ),
) -> None:
    """List what changed; exit 1 if a change is material and must be announced first."""
    language = cli_language(lang)
    if lang is not None and lang not in LANGUAGES:
        fail(
            _t(language, "Unknown language “{lang}”; use one of: {languages}.").format(
                lang=lang, languages=", ".join(LANGUAGES)
            )
        )
    before = load_or_exit(old, language).manifest
    after = load_or_exit(new, language).manifest
    diff = diff_manifests(before, after)
    if output_format is DiffFormat.JSON:
        typer.echo(json.dumps(diff.to_dict(language), ensure_ascii=False, indent=2))
    else:
        typer.echo(diff_text(diff, language))
    raise typer.Exit(EXIT_FINDINGS if diff.has_material_changes else EXIT_OK)


def diff_text(diff: PolicyDiff, lang: str) -> str:
    """One line per change, material ones first, then a summary saying what to do."""
    if not diff.changes:
        return _t(lang, "No changes to the policy.")
    lines = []
    ordered = sorted(diff.changes, key=lambda change: not change.material)
    for change in ordered:
        mark = _t(lang, "MATERIAL") if change.material else _t(lang, "minor")
        sentence = change.describe(lang).rstrip(".")
        lines.append(f"{mark:<9} {sentence} ({change.article.cite(lang)}).")
    material = len(diff.material)
    lines.append("")
    if material:
        lines.append(
            _t(
                lang,
                "{count} change(s), {material} material: tell people before the "
                "changes apply ({article}), and ask again for consent where a "
                "consent-based purpose is affected.",
            ).format(count=len(diff.changes), material=material, article=NOTICE.cite(lang))
        )
    else:
        lines.append(_t(lang, "{count} change(s), none material.").format(count=len(diff.changes)))
    return "\n".join(lines)
