"""`jagadata serve`: migrate the database, then run the web service with uvicorn, and the
background jobs in the same process unless a Redis queue leaves them to `jagadata worker`."""

from __future__ import annotations

import logging
import socket
from contextlib import nullcontext
from pathlib import Path

import typer
import uvicorn
from rich.markup import escape

import jagadata
from jagadata.cli.common import LangOption, cli_language, console, fail, require_keyring
from jagadata.cli.db import migrated_session
from jagadata.cli.worker import open_queue
from jagadata.config import get_settings
from jagadata.i18n import gettext
from jagadata.jobs import background_consumer, install_queue
from jagadata.logs import configure_logging
from jagadata.orgs import service


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "web")


def serve_command(
    host: str | None = typer.Option(None, "--host", help="Address to listen on (JAGADATA_HOST)."),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, help="Port to listen on (JAGADATA_PORT)."
    ),
    reload: bool = typer.Option(
        False, "--reload", help="Restart when the code changes (development)."
    ),
    lang: str | None = LangOption,
) -> None:
    """Run the web service: privacy centres at /o/{organisation}/, the API at /api/v1/."""
    lang = cli_language(lang)
    settings = get_settings()
    require_keyring(lang)
    host = host or settings.host
    port = port or settings.port
    with migrated_session(lang) as session:
        organisations = [(o.slug, o.name) for o in service.list_organisations(session=session)]
    if not _port_is_free(host, port):
        fail(
            _t(lang, "Port {port} on {host} is already in use.").format(port=port, host=host),
            hint=_t(
                lang,
                "Stop the other program, or choose another port: jagadata serve --port {other}",
            ).format(other=port + 1),
        )
    address = f"http://{_display_host(host)}:{port}"
    console.print(_t(lang, "jagadata is running at {address}").format(address=address))
    for slug, name in organisations:
        line = _t(lang, "Privacy centre of {name}: {url}")
        console.print(line.format(name=escape(name), url=f"{address}/o/{slug}/"))
    if not organisations:
        console.print(_t(lang, "No organisation yet. Add one with: jagadata org add MANIFEST"))
    queue = open_queue(settings, lang)
    runs_jobs = not queue.uses_redis
    if runs_jobs:
        line = _t(lang, "Background jobs run inside this process (queue: {queue}).")
    else:
        line = _t(
            lang,
            "Background jobs are run by workers (queue: {queue}); start them with: jagadata worker",
        )
    console.print(line.format(queue=escape(queue.description)))
    console.print(_t(lang, "Press Ctrl+C to stop."))
    configure_logging(logging.INFO)
    previous = install_queue(queue)
    try:
        with background_consumer(queue) if runs_jobs else nullcontext():
            uvicorn.run(
                "jagadata.web.app:create_app",
                factory=True,
                host=host,
                port=port,
                reload=reload,
                server_header=False,
                reload_dirs=[str(Path(jagadata.__file__).parent)] if reload else None,
                log_level="info",
                log_config=None,  # uvicorn logs through jagadata's redacting handler
            )
    finally:
        install_queue(previous)
        queue.close()


def _display_host(host: str) -> str:
    """Where a person on this machine can open the service; IPv6 literals get brackets."""
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
