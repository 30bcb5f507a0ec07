"""What the HTTP benchmarks share: a scratch database (SQLite file or PostgreSQL database) with
an organisation published, an API key, a uvicorn server in its own process on loopback, wrk
as the load generator, and the output format (`name: value unit (ratio X vs BASELINE)`).

Set JAGADATA_BENCH_PROFILE=/tmp/b4 to run each server under py-spy (installed next to the
Python running the benchmark) and keep its profile (collapsed stacks) in
/tmp/b4-<app>-<port>.txt.
"""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
GELATO_MANIFEST = ROOT / "examples" / "la-gelato-academy.yaml"
POSTGRES_URL = os.environ.get(
    "JAGADATA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
UVICORN_ARGS = ["--workers", "1", "--no-access-log", "--log-level", "warning"]
"""The same server settings for jagadata and the baseline: one process, uvloop/httptools when
installed (uvicorn[standard]), no access log."""


def consent_app() -> FastAPI:
    """The jagadata app as served (settings from JAGADATA_*): `create_app` includes the consent
    API and pages."""
    from jagadata.web.app import create_app

    return create_app()


def framework_app() -> FastAPI:
    """The same jagadata app with one more endpoint returning a constant: what FastAPI and the
    app's middleware cost before any consent code runs (the ceiling for B4)."""
    app = consent_app()

    @app.post("/api/v1/bench/constant")
    async def constant() -> dict[str, bool]:
        return {"allowed": True}

    return app


async def _constant(_request: Request) -> JSONResponse:
    return JSONResponse({"allowed": True})


def bare_app() -> Starlette:
    """The lower bound: a bare Starlette endpoint returning a constant."""
    return Starlette(routes=[Route("/check", _constant, methods=["GET", "POST"])])


@contextmanager
def scratch_database(kind: str) -> Iterator[str]:
    """An empty database URL: a SQLite file in a temporary directory, or a new PostgreSQL
    database dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        return
    name = f"jagadata_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Prepared:
    database_url: str
    data_dir: Path
    organisation_id: int
    slug: str
    token: str

    @property
    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "JAGADATA_DATABASE_URL": self.database_url,
            "JAGADATA_DATA_DIR": str(self.data_dir),
            "JAGADATA_BASE_URL": "http://127.0.0.1",
        }


def prepare(database_url: str, data_dir: Path) -> Prepared:
    """Migrate, publish La Gelato Academy's manifest, and create a consent API key."""
    os.environ["JAGADATA_DATA_DIR"] = str(data_dir)
    os.environ["JAGADATA_DATABASE_URL"] = database_url
    from jagadata.accounts.keys import create_key
    from jagadata.audit.service import Actor
    from jagadata.config import get_settings
    from jagadata.db import atomic, make_engine, session_factory
    from jagadata.db.migrate import upgrade
    from jagadata.manifest.loader import load_manifest
    from jagadata.orgs.service import add_organisation

    get_settings.cache_clear()
    engine = make_engine(database_url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as session:
        organisation = add_organisation(session=session, loaded=load_manifest(GELATO_MANIFEST))
    organisation_id = organisation.organisation.id
    with factory() as session, atomic(session):
        _, token = create_key(
            session=session,
            organisation_id=organisation_id,
            name="bench",
            scopes=["consent:read", "consent:write"],
            actor=Actor.system("bench"),
        )
    engine.dispose()
    return Prepared(database_url, data_dir, organisation_id, "la-gelato-academy", token)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(factory: str, environment: dict[str, str]) -> Iterator[str]:
    """uvicorn serving `module:factory` from bench/ on a free loopback port; its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--app-dir",
               str(ROOT / "bench"), "--host", "127.0.0.1", "--port", str(port),
               *UVICORN_ARGS]  # fmt: skip
    profile = os.environ.get("JAGADATA_BENCH_PROFILE")
    if profile:  # a py-spy profile of the server, in py-spy's raw (collapsed stacks) format
        name = factory.split(":")[-1]
        spy = str(Path(sys.executable).parent / "py-spy")
        command = [spy, "record", "-r", "250", "-f", "raw", "-o",
                   f"{profile}-{name}-{port}.txt", "--", *command]  # fmt: skip
    process = subprocess.Popen(command, env=environment)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{factory} did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass(frozen=True)
class Load:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(
    url: str,
    *,
    script: Path,
    seconds: int,
    connections: int,
    threads: int = 1,
) -> Load:
    """Run wrk against `url` with a Lua script; requests/s, latency percentiles, failures."""
    output = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
         "-s", str(script), url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(failed.group(1)) if failed else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Load(rate, p50, p99, total, errors)


def post_script(path: Path, bodies: list[dict[str, Any]], headers: dict[str, str]) -> Path:
    """A wrk Lua script POSTing the bodies in turn with these headers."""
    lines = ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"']
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    lines.append("local bodies = {")
    lines += [f"  {_lua_string(json.dumps(body))}," for body in bodies]
    lines += ["}", "local i = 0", "request = function()", "  i = i % #bodies + 1",
              "  return wrk.format(nil, nil, nil, bodies[i])", "end"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def wait_for(url: str, headers: dict[str, str] | None = None) -> None:
    with httpx.Client(timeout=10) as client:
        client.get(url, headers=headers or {})


def line(name: str, value: float, unit: str, ratio: float, baseline: str) -> str:
    digits = 0 if value >= 100 else 2
    return f"{name}: {value:.{digits}f} {unit} (ratio {ratio:.2f} vs {baseline})"


def write_results(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {**result, "python": platform.python_version(), "cpus": os.cpu_count()}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
