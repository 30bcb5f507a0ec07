"""The `jagadata` command: every capability reachable from one entry point, never a traceback."""

from __future__ import annotations

import logging
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

import typer

from jagadata import __version__
from jagadata.cli import (
    audit,
    backup,
    banner,
    breach,
    check,
    consent,
    datastore,
    db,
    init_cmd,
    keys,
    manifest_cmd,
    org,
    policy,
    request,
    retention,
    ropa,
    serve,
    user,
    worker,
)
from jagadata.cli.common import _t, cli_language, err_console
from jagadata.config import get_settings
from jagadata.logs import configure_logging

app = typer.Typer(
    name="jagadata",
    help="Keep the promises of your privacy policy under UU PDP (Law 27/2022).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(manifest_cmd.app, name="manifest")
app.add_typer(policy.app, name="policy")
app.add_typer(org.app, name="org")
app.add_typer(db.app, name="db")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(consent.app, name="consent")
app.add_typer(banner.app, name="banner")
app.add_typer(user.app, name="user")
app.add_typer(request.app, name="request")
app.add_typer(datastore.app, name="datastore")
app.add_typer(breach.app, name="breach")
app.add_typer(retention.app, name="retention")
app.command("check")(check.check_command)
app.command("ropa")(ropa.ropa_command)
app.command("init")(init_cmd.init_command)
app.command("serve")(serve.serve_command)
app.command("worker")(worker.worker_command)
app.command("backup")(backup.backup_command)
app.command("restore")(backup.restore_command)


@app.command("version")
def version_command() -> None:
    """Print jagadata's version."""
    typer.echo(__version__)


def main() -> None:
    """Run the CLI; an unexpected failure prints where its details were written, not a traceback."""
    configure_logging(logging.WARNING)
    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err_console.print(_t(cli_language(), "Interrupted; nothing further was changed."))
        sys.exit(130)
    except Exception:  # the last line of defence: a person reads a sentence, the log keeps the rest
        report = _write_crash_report()
        lang = cli_language()
        err_console.print(
            "[red]"
            + _t(lang, "jagadata stopped because of an unexpected internal error.")
            + "[/red]\n"
            + _t(lang, "Nothing further was changed. Details for the developers: {path}").format(
                path=report
            )
        )
        sys.exit(70)


def _write_crash_report() -> Path:
    directory = get_settings().data_dir / "logs"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"crash-{datetime.now(UTC):%Y%m%dT%H%M%S}.log"
        path.write_text(traceback.format_exc(), encoding="utf-8")
    except OSError:
        path = Path("/dev/stderr")
    return path
