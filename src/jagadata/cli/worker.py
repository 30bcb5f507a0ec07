"""`jagadata worker`: take background jobs from the queue until stopped; run as many as needed."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta
from typing import NoReturn

import typer
from rich.markup import escape

from jagadata.cli.common import LangOption, _t, cli_language, console, fail, require_keyring
from jagadata.cli.db import migrated_engine
from jagadata.config import Settings, get_settings
from jagadata.jobs import (
    DEFAULT_LEASE,
    JobQueue,
    QueueUnavailable,
    describe_queue,
    install_queue,
    make_queue,
    run_worker,
)
from jagadata.logs import configure_logging


def worker_command(
    workers: int = typer.Option(
        2, "--workers", min=1, max=64, help="Jobs this process runs at once (threads)."
    ),
    lease: int = typer.Option(
        int(DEFAULT_LEASE.total_seconds()),
        "--lease",
        min=1,
        envvar="JAGADATA_WORKER_LEASE_SECONDS",
        help="Seconds a claimed message stays with this worker before another may take it over.",
    ),
    lang: str | None = LangOption,
) -> None:
    """Run background jobs (notifications, periodic work) until Ctrl+C; start one per machine."""
    lang = cli_language(lang)
    settings = get_settings()
    require_keyring(lang)
    with migrated_engine(lang):
        pass
    queue = open_queue(settings, lang, lease=timedelta(seconds=lease))
    configure_logging(logging.WARNING)
    logging.getLogger("jagadata").setLevel(logging.INFO)
    logging.getLogger("huey.consumer").setLevel(logging.INFO)
    console.print(
        _t(lang, "Worker started: {count} thread(s) taking jobs from {queue}.").format(
            count=workers, queue=escape(queue.description)
        )
    )
    console.print(_t(lang, "Press Ctrl+C to stop; jobs already started are finished first."))
    previous = install_queue(queue)
    try:
        run_worker(queue, workers=workers)
    finally:
        install_queue(previous)
        queue.close()
    console.print(_t(lang, "Worker stopped."))


def open_queue(settings: Settings, lang: str, *, lease: timedelta = DEFAULT_LEASE) -> JobQueue:
    """The configured queue, answering; or one sentence on what to fix and exit 2."""
    try:
        queue = make_queue(settings, lease=lease)
    except (OSError, ValueError, sqlite3.Error) as error:
        queue_unavailable(lang, settings, describe_queue(settings), str(error) or repr(error))
    try:
        queue.ping()
    except QueueUnavailable as dead:
        queue.close()
        queue_unavailable(lang, settings, dead.where, dead.reason)
    return queue


def queue_unavailable(lang: str, settings: Settings, where: str, reason: str) -> NoReturn:
    fail(
        _t(lang, "Cannot use the job queue {queue}: {reason}.").format(
            queue=where, reason=reason.rstrip(".")
        ),
        hint=_t(
            lang,
            "Check that Redis is running and that JAGADATA_REDIS_URL is right (or unset it to "
            "use the queue file in JAGADATA_DATA_DIR), then try again.",
        )
        if settings.redis_url
        else _t(
            lang,
            "Check that the data directory (JAGADATA_DATA_DIR) can be created and written to, "
            "then try again.",
        ),
    )
