"""`jagadata serve`: migrates, prints each privacy centre's address, and serves it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
JAGADATA = [sys.executable, "-c", "from jagadata.cli import main; main()"]

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "JAGADATA_DATABASE_URL": database_url,
        "JAGADATA_DATA_DIR": str(tmp_path),
        "JAGADATA_LANG": "en",
        "PYTHONUNBUFFERED": "1",
    }


def test_serve_prints_the_privacy_centres_and_serves_them(environment: dict[str, str]) -> None:
    added = subprocess.run(
        [*JAGADATA, "org", "add", str(ROOT / "examples" / "la-gelato-academy.yaml")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert added.returncode == 0, added.stdout + added.stderr
    port = _free_port()
    server = subprocess.Popen(
        [*JAGADATA, "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    centre = f"http://127.0.0.1:{port}/o/la-gelato-academy/"
    try:
        page = None
        for _ in range(300):  # up to 60 s for the server to come up
            try:
                page = httpx.get(centre, headers={"accept-language": "fr"})
                break
            except httpx.TransportError:
                if server.poll() is not None:
                    break
                time.sleep(0.2)
        assert page is not None, "the server did not answer"
        assert page.status_code == 200
        assert '<html lang="fr">' in page.text
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=60)
    assert f"Privacy centre of La Gelato Academy: {centre}" in output
    assert "Traceback" not in output


def test_a_port_in_use_is_explained(environment: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*JAGADATA, "serve", "--port", str(port)],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 2
    assert f"Port {port} on 127.0.0.1 is already in use." in result.stderr
    assert f"jagadata serve --port {port + 1}" in result.stderr
