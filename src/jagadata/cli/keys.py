"""`jagadata keys ...`: the encryption keyring — status, rotation, retiring old keys."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from jagadata.cli.common import LangOption, _t, cli_language, console, fail
from jagadata.cli.db import migrated_engine
from jagadata.config import get_settings
from jagadata.crypto import Keyring, KeyringError, forget_keyrings, get_keyring
from jagadata.crypto.rotation import encrypted_columns, reencrypt, stale_count
from jagadata.db import load_all_models

app = typer.Typer(
    help="The encryption keyring: status, rotation, retiring keys.", no_args_is_help=True
)


def _keyring(lang: str) -> Keyring:
    try:
        return get_keyring()
    except KeyringError as error:
        fail(error.in_language(lang), hint=_t(lang, "See docs/deployment.md, section Keys."))


@app.command("status")
def status_command(lang: str | None = LangOption) -> None:
    """Show the keys, the active one, and values still encrypted under older keys."""
    lang = cli_language(lang)
    keyring = _keyring(lang)
    console.print(_t(lang, "Keyring: {source}").format(source=keyring.source))
    table = Table()
    table.add_column(_t(lang, "Key"))
    table.add_column(_t(lang, "Active"))
    for key_id in sorted(keyring.keys):
        table.add_row(key_id, "✓" if key_id == keyring.active else "")
    console.print(table)
    with migrated_engine(lang) as engine:
        stale = {
            t.name: stale_count(engine, t, keyring) for t in encrypted_columns(load_all_models())
        }
    behind = sum(stale.values())
    console.print(_t(lang, "Values under an older key: {count}").format(count=behind))
    if behind:
        console.print(_t(lang, "Run `jagadata keys rotate` to re-encrypt them."))


@app.command("rotate")
def rotate_command(
    resume: bool = typer.Option(
        False, "--resume", help="Only re-encrypt what is left under older keys; no new key."
    ),
    lang: str | None = LangOption,
) -> None:
    """Make a new key active and re-encrypt every stored value under it, in batches."""
    lang = cli_language(lang)
    settings = get_settings()
    keyring = _keyring(lang)
    if settings.keys and not resume:
        fail(
            _t(lang, "The keyring comes from JAGADATA_KEYS, which jagadata cannot change."),
            hint=_t(lang, "Keep the keyring in a file (JAGADATA_KEY_FILE) to rotate it here."),
        )
    if not resume:
        keyring = keyring.with_new_active_key()
        keyring.save(settings.effective_key_file)
        forget_keyrings()
        console.print(
            _t(lang, "New active key {key} saved in {path}.").format(
                key=keyring.active, path=settings.effective_key_file
            )
        )
    metadata = load_all_models()
    with migrated_engine(lang) as engine:
        totals = {t.name: stale_count(engine, t, keyring) for t in encrypted_columns(metadata)}
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=False,
        ) as progress:
            tasks = {name: progress.add_task(name, total=total) for name, total in totals.items()}
            done = reencrypt(
                engine, metadata, keyring, progress=lambda name, n: progress.advance(tasks[name], n)
            )
    console.print(
        _t(lang, "Re-encrypted {count} row(s) under key {key}.").format(
            count=sum(done.values()), key=keyring.active
        )
    )


@app.command("retire")
def retire_command(
    key_id: str = typer.Argument(..., help="The key to remove from the keyring."),
    lang: str | None = LangOption,
) -> None:
    """Remove an old key once no stored value needs it."""
    lang = cli_language(lang)
    settings = get_settings()
    keyring = _keyring(lang)
    if key_id not in keyring.keys:
        fail(_t(lang, "There is no key {key} in the keyring.").format(key=key_id))
    with migrated_engine(lang) as engine:  # any value not under the active key may need it
        still = sum(stale_count(engine, t, keyring) for t in encrypted_columns(load_all_models()))
    if still:
        fail(
            _t(lang, "{count} value(s) are not yet under the active key.").format(count=still),
            hint=_t(lang, "Run `jagadata keys rotate --resume` first."),
        )
    try:
        retired = keyring.without_key(key_id)
    except KeyringError as error:
        fail(error.in_language(lang))
    retired.save(settings.effective_key_file)
    forget_keyrings()
    console.print(_t(lang, "Key {key} retired.").format(key=key_id))


@app.command("init")
def init_command(
    path: Path = typer.Argument(..., help="Where to write the new keyring (keep it secret)."),
    lang: str | None = LangOption,
) -> None:
    """Write a new keyring file, for production (JAGADATA_KEY_FILE)."""
    lang = cli_language(lang)
    if path.exists():
        fail(_t(lang, "{path} already exists.").format(path=path))
    Keyring.generate(source=str(path)).save(path)
    console.print(
        _t(
            lang,
            "Wrote a new keyring to {path}; set JAGADATA_KEY_FILE={path} and "
            "back it up apart from the database.",
        ).format(path=path)
    )
