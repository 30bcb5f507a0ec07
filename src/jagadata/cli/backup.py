"""`jagadata backup` and `jagadata restore`: jagadata's whole database in one portable file, and
back, with every audit chain, consent ledger and request timeline verified after a restore."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from jagadata.cli.common import (
    LangOption,
    cli_language,
    console,
    err_console,
    fail,
    require_keyring,
)
from jagadata.cli.db import migrated_engine
from jagadata.crypto import KeyringError
from jagadata.i18n import gettext
from jagadata.ops.archive import BackupUnreadable
from jagadata.ops.backup import write_backup
from jagadata.ops.restore import RestoreRefused, read_backup, restore_checked
from jagadata.ops.verify import ChainKind, Verification, verify_chains

EXIT_BROKEN = 1


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "ops")


def _progress(description: str) -> Progress:
    return Progress(
        TextColumn(escape(description)),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
    )


def backup_command(
    output: Path = typer.Option(
        ..., "--output", "-o", help="The backup file to write (a zip; replaced if it exists)."
    ),
    lang: str | None = LangOption,
) -> None:
    """Write jagadata's whole database into one file; the keyring is backed up apart."""
    lang = cli_language(lang)
    if not output.parent.is_dir():
        fail(
            _t(lang, "Cannot write the backup to {path}: the directory does not exist.").format(
                path=output
            ),
            hint=_t(lang, "Create the directory, or give another path with -o."),
        )
    with migrated_engine(lang) as engine, _progress(_t(lang, "Backing up")) as progress:
        task = progress.add_task("", total=None)

        def advance(table: str, rows: int) -> None:
            progress.update(task, description=table, advance=rows)

        try:
            manifest = write_backup(engine, output, advance)
        except OSError as error:
            fail(
                _t(lang, "Cannot write the backup to {path}: {reason}.").format(
                    path=output, reason=error.strerror or error.__class__.__name__
                )
            )
    console.print(
        _t(
            lang, "Backup written to {path}: {tables} tables, {rows} rows, revision {revision}."
        ).format(
            path=escape(str(output)),
            tables=len(manifest.tables),
            rows=manifest.total_rows,
            revision=manifest.revision,
        )
    )
    console.print(
        _t(
            lang,
            "The keyring is not in the backup (encrypted values stay encrypted in it): keep a "
            "copy of the keyring apart, or the backup cannot be read.",
        )
    )


def restore_command(
    backup: Path = typer.Argument(..., help="A file written by `jagadata backup`."),
    lang: str | None = LangOption,
) -> None:
    """Restore a backup into an empty database, then verify every hash chain in it."""
    lang = cli_language(lang)
    require_keyring(lang)
    if not backup.is_file():
        fail(_t(lang, "Cannot restore {path}: there is no such file.").format(path=backup))
    try:
        archive, manifest = read_backup(backup)
    except (BackupUnreadable, RestoreRefused) as unreadable:
        _refused(lang, backup, unreadable)
    with archive, migrated_engine(lang) as engine:
        with _progress(_t(lang, "Restoring")) as progress:
            task = progress.add_task("", total=manifest.total_rows)

            def advance(table: str, rows: int) -> None:
                progress.update(task, description=table, advance=rows)

            try:
                restore_checked(engine, archive, manifest, advance)
            except RestoreRefused as refused:
                _refused(lang, backup, refused)
        console.print(
            _t(lang, "Restored {rows} rows in {tables} tables (revision {revision}).").format(
                rows=manifest.total_rows, tables=len(manifest.tables), revision=manifest.revision
            )
        )
        verification = verify_chains(engine)
    _report(lang, verification)
    if not verification.ok:
        raise typer.Exit(EXIT_BROKEN)


def _refused(lang: str, backup: Path, refusal: BackupUnreadable | RestoreRefused) -> NoReturn:
    fail(
        _t(lang, "Cannot restore {path}: {reason}.").format(
            path=backup, reason=_t(lang, refusal.message).format(**_in_language(lang, refusal))
        ),
        hint=_t(lang, "Nothing was written to the database."),
    )


def _in_language(lang: str, refusal: BackupUnreadable | RestoreRefused) -> dict[str, object]:
    """The refusal's values, a keyring's own message in the reader's language."""
    return {
        name: value.in_language(lang) if isinstance(value, KeyringError) else value
        for name, value in refusal.values.items()
    }


def _report(lang: str, verification: Verification) -> None:
    labels = {
        ChainKind.AUDIT: _t(lang, "Audit chains checked: {count}"),
        ChainKind.CONSENT: _t(lang, "Consent ledgers checked: {count}"),
        ChainKind.TIMELINE: _t(lang, "Request timelines checked: {count}"),
    }
    for kind, label in labels.items():
        console.print(label.format(count=verification.count(kind)))
    broken = {
        ChainKind.AUDIT: _t(lang, "The audit chain of {owner} is broken at entry {sequence}."),
        ChainKind.CONSENT: _t(lang, "The consent ledger of {owner} is broken at event {sequence}."),
        ChainKind.TIMELINE: _t(
            lang, "The timeline of request {owner} is broken at entry {sequence}."
        ),
    }
    for check in verification.broken:
        err_console.print(
            "[red]"
            + escape(broken[check.kind].format(owner=check.owner, sequence=check.broken_at))
            + "[/red]"
        )
    if verification.ok:
        console.print(_t(lang, "Every chain verifies: the restored database is whole."))
    else:
        err_console.print(
            _t(
                lang,
                "The restored database does not match what was backed up: do not use it; "
                "restore another backup and keep this one as evidence.",
            )
        )
