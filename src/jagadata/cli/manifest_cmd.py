"""`jagadata manifest ...`: the manifest's JSON Schema and a quick validity check."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from jagadata.cli.common import LangOption, _t, cli_language, console, load_or_exit
from jagadata.manifest.schema import Manifest

app = typer.Typer(help="Work with the privacy manifest format.", no_args_is_help=True)


def json_schema() -> dict[str, object]:
    schema = Manifest.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://jagadata.id/schema/manifest-1.json"
    schema["title"] = "jagadata privacy manifest"
    return schema


@app.command("schema")
def schema_command(
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file."),
) -> None:
    """Print the JSON Schema of the manifest, for editors to autocomplete and validate."""
    text = json.dumps(json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)


@app.command("validate")
def validate_command(
    manifest: Path = typer.Argument(..., help="The manifest file."),
    lang: str | None = LangOption,
) -> None:
    """Check that a manifest is well formed (exit 2 with every problem if not)."""
    language = cli_language(lang)
    loaded = load_or_exit(manifest, language)
    console.print(
        _t(language, "{file}: the manifest is well formed (sha256 {digest}).").format(
            file=loaded.file, digest=loaded.content_hash[:12]
        )
    )
