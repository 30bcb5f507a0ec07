"""What the several-machines test runs: jagadata processes started as an operator would start
them, an SMTP server that accepts a message only when its sender is still there to hear the
250, and the traffic sent to the web processes."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from notify_servers import ReceivedEmail
from rights_helpers import csrf_of

ORG = "la-gelato-academy"
FORM = f"/o/{ORG}/requests/new"
CONSENT = f"/api/v1/orgs/{ORG}/consent/events"
_XDIST_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = f"redis://127.0.0.1:6379/{7 - _XDIST_WORKER % 4}"
"""A Redis database of this test's own (one per parallel test process), flushed before and after."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def jagadata(*args: str) -> list[str]:
    return [sys.executable, "-c", "from jagadata.cli import main; main()", *args]


@dataclass
class Process:
    """One `jagadata` process with its own log file."""

    name: str
    command: list[str]
    environment: dict[str, str]
    workdir: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self) -> Process:
        with self.log.open("wb") as output:
            self.popen = subprocess.Popen(
                self.command,
                env=self.environment,
                cwd=self.workdir,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        return self

    def running(self) -> subprocess.Popen[bytes]:
        assert self.popen is not None
        if self.popen.poll() is not None:
            pytest.fail(f"{self.name} stopped:\n{self.log.read_text()}")
        return self.popen

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


def wait_for(condition: Callable[[], bool], what: str, seconds: float, logs: list[Path]) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            text = "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in logs)
            pytest.fail(f"{what} did not happen in {seconds} s\n{text}")
        time.sleep(0.1)


def answering(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class CompletingSmtpHandler:
    """Accepts a message when the DATA command completes: a sender that dies before it hears
    the 250 has sent nothing (its message is `cut`). Holds every message after `hold_after`
    until `release()`."""

    def __init__(self, hold_after: int) -> None:
        self.hold_after: int | None = hold_after
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.received: list[ReceivedEmail] = []
        self.seen = 0
        self.held = 0
        self.cut = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.seen += 1
            hold = self.hold_after is not None and self.seen > self.hold_after
            self.held += hold
        await asyncio.sleep(0.02)
        try:
            if hold:
                await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 25)
        except asyncio.CancelledError:
            with self.lock:
                self.cut += 1
                self.held -= 1
            raise
        content = envelope.original_content or b""
        with self.lock:
            self.held -= hold
            self.received.append(
                ReceivedEmail(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content))
            )
        return "250 Message accepted"

    def release(self) -> None:
        self.hold_after = None
        self.gate.set()


class SmtpServer:
    def __init__(self, hold_after: int) -> None:
        self.handler = CompletingSmtpHandler(hold_after)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=free_port())

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.handler.release()
        self.controller.stop()

    @property
    def port(self) -> int:
        return int(self.controller.port)


@dataclass
class Traffic:
    """What the clients saw; guarded by `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    filed: dict[str, str] = field(default_factory=dict)
    """Reference -> the address it was filed with, for every request answered 303."""
    consent_sequences: list[int] = field(default_factory=list)
    consent_sent: int = 0
    problems: list[str] = field(default_factory=list)


def file_requests(base: str, number: int, emails: list[str], traffic: Traffic) -> None:
    """File one access request per address through the privacy centre's form."""
    with httpx.Client(base_url=base, timeout=30) as client:
        token = csrf_of(client.get(FORM, params={"lang": "id"}).text)
        for sent, email in enumerate(emails):
            response = client.post(
                FORM + "?lang=id",
                data={
                    "csrf_token": token,
                    "right": "access",
                    "identifier": "email",
                    "value": email,
                    "on_behalf": "self",
                },
                headers={"x-forwarded-for": f"10.{number}.0.{sent + 1}"},
            )
            with traffic.lock:
                if response.status_code == 303:
                    reference = urlsplit(response.headers["location"]).path.split("/")[4]
                    traffic.filed[reference] = email
                else:
                    traffic.problems.append(f"form {response.status_code}: {response.text[:200]}")


def send_consent(
    base: str, token: str, batches: list[list[dict[str, object]]], traffic: Traffic
) -> None:
    """Send consent batches through the API, each under its own Idempotency-Key; a batch whose
    answer is lost is sent again under the same key."""
    with httpx.Client(base_url=base, timeout=30) as client:
        for batch in batches:
            key = uuid.uuid4().hex
            for _attempt in range(3):
                try:
                    response = client.post(
                        CONSENT,
                        json={"events": batch},
                        headers={"authorization": f"Bearer {token}", "idempotency-key": key},
                    )
                except httpx.HTTPError:
                    continue
                break
            else:
                with traffic.lock:
                    traffic.problems.append("a consent batch was never answered")
                continue
            with traffic.lock:
                if response.status_code == 201:
                    traffic.consent_sent += len(batch)
                    traffic.consent_sequences.extend(
                        e["sequence"] for e in response.json()["events"]
                    )
                else:
                    traffic.problems.append(f"consent {response.status_code}: {response.text}")
