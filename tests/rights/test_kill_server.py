"""Killing the server mid-request loses nothing: a real `jagadata serve` takes requests from the
privacy centre's form in parallel, is killed with SIGKILL while some are in flight, and started
again. Every request that got its 303 answer is there whole (its `received` entry, its tasks,
its code in the outbox, a timeline that verifies), and no request exists half-written.
SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from faker import Faker
from rights_helpers import csrf_of
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from jagadata.config import Settings
from jagadata.db import session_factory
from jagadata.db.tenancy import across_organisations
from jagadata.notify.models import OutboxMessage
from jagadata.rights import service
from jagadata.rights.models import RequestTask, RightsRequest, Verification

ORG = "la-gelato-academy"
NEW = f"/o/{ORG}/requests/new"
FILERS = 6
ANSWERED_BEFORE_KILL = 24


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    port: int
    environment: dict[str, str]
    workdir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self, number: int) -> Path:
        return self.workdir / f"serve-{number}.log"

    def start(self) -> subprocess.Popen[bytes]:
        number = len(self.processes) + 1
        with self.log(number).open("wb") as output:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from jagadata.cli import main; main()",
                    "serve",
                    "--port",
                    str(self.port),
                ],
                env=self.environment,
                cwd=self.workdir,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        self._wait_until_ready(process, number)
        return process

    def _wait_until_ready(self, process: subprocess.Popen[bytes], number: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"jagadata serve stopped:\n{self.log(number).read_text()}")
            try:
                if httpx.get(self.url + NEW, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail(f"jagadata serve did not answer in 60 s:\n{self.log(number).read_text()}")

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def server(settings: Settings, database_url: str, tmp_path: Path) -> Iterator[Server]:
    """`jagadata serve` on the test's database (the example organisations published), with
    background jobs inside it (a SQLite queue in its data directory); no SMTP: messages wait
    in the outbox."""
    environment = {
        **os.environ,
        "JAGADATA_DATABASE_URL": database_url,
        "JAGADATA_BASE_URL": "http://127.0.0.1",
        "JAGADATA_LANG": "en",
        "PYTHONUNBUFFERED": "1",
    }
    running = Server(_free_port(), environment, tmp_path)
    yield running
    running.stop_all()


@dataclass
class Filing:
    email: str
    reference: str


@dataclass
class Traffic:
    """What the filers saw; guarded by `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    answered: list[Filing] = field(default_factory=list)
    in_flight: int = 0
    unanswered: int = 0
    refused: list[str] = field(default_factory=list)


def _filer(
    base: str, number: int, emails: list[str], traffic: Traffic, stop: threading.Event
) -> Callable[[], None]:
    def run() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            try:
                page = client.get(NEW, params={"lang": "id"})
                token = csrf_of(page.text)
            except httpx.HTTPError:
                return
            for sent, email in enumerate(emails):
                if stop.is_set():
                    return
                with traffic.lock:
                    traffic.in_flight += 1
                try:
                    response = client.post(
                        NEW + "?lang=id",
                        data={
                            "csrf_token": token,
                            "right": "access",
                            "identifier": "email",
                            "value": email,
                            "on_behalf": "self",
                        },
                        # one address per filing: the form allows ten requests an hour per address
                        headers={"x-forwarded-for": f"10.{number}.{sent // 200}.{sent % 200 + 1}"},
                    )
                except httpx.HTTPError:
                    with traffic.lock:
                        traffic.in_flight -= 1
                        traffic.unanswered += 1
                    return
                with traffic.lock:
                    traffic.in_flight -= 1
                    if response.status_code == 303:
                        path = urlsplit(response.headers["location"]).path
                        reference = path.split("/")[4]
                        traffic.answered.append(Filing(email, reference))
                    else:
                        traffic.refused.append(f"{response.status_code}: {response.text[:300]}")

    return run


def _whole(session: Session, request: RightsRequest, tasks: int) -> list[str]:
    """What is missing from a request filed through the form (empty: nothing)."""
    problems = []
    events = service.timeline(session, request)
    if not events or events[0].kind != "received":
        problems.append("no received entry first")
    if [e.kind for e in events[:2]] != ["received", "code_sent"]:
        problems.append(f"timeline {[e.kind for e in events]}")
    if service.verify_timeline(session, request) is not None:
        problems.append("timeline does not verify")
    count = session.scalar(
        select(func.count()).select_from(RequestTask).where(RequestTask.request_id == request.id)
    )
    if count != tasks:
        problems.append(f"{count} tasks instead of {tasks}")
    codes = session.scalar(
        select(func.count()).select_from(Verification).where(Verification.request_id == request.id)
    )
    if codes != 1:
        problems.append(f"{codes} codes")
    return problems


def test_killing_the_server_mid_request_loses_nothing(
    server: Server, migrated_engine: Engine, database_url: str
) -> None:
    fake = Faker("id_ID")
    fake.seed_instance(2027)
    server.start()
    traffic = Traffic()
    stop = threading.Event()
    filers = [
        threading.Thread(
            target=_filer(
                server.url,
                number,
                [f"{number}.{n}.{fake.user_name()}@example.test" for n in range(200)],
                traffic,
                stop,
            )
        )
        for number in range(FILERS)
    ]
    for filer in filers:
        filer.start()
    deadline = time.monotonic() + 120
    killed_in_flight = 0
    while time.monotonic() < deadline:
        with traffic.lock:
            count, in_flight = len(traffic.answered), traffic.in_flight
        if count >= ANSWERED_BEFORE_KILL and in_flight >= 2:
            server.processes[0].send_signal(signal.SIGKILL)
            killed_in_flight = in_flight
            break
        time.sleep(0.005)
    stop.set()
    assert server.processes[0].wait(timeout=10) == -signal.SIGKILL
    for filer in filers:
        filer.join(timeout=60)
    assert killed_in_flight >= 2, "the server was killed while requests were being filed"
    assert not traffic.refused, traffic.refused
    answered = list(traffic.answered)
    assert len(answered) >= ANSWERED_BEFORE_KILL

    server.start()  # the same database, after the crash
    again = httpx.Client(base_url=server.url, timeout=30)
    with again:
        token = csrf_of(again.get(NEW, params={"lang": "id"}).text)
        after = again.post(
            NEW + "?lang=id",
            data={
                "csrf_token": token,
                "right": "access",
                "identifier": "email",
                "value": f"setelah.{fake.user_name()}@example.test",
                "on_behalf": "self",
            },
        )
    assert after.status_code == 303

    with session_factory(migrated_engine)() as session, across_organisations(session):
        requests = {r.reference: r for r in session.scalars(select(RightsRequest))}
        tasks = session.scalar(
            select(func.count())
            .select_from(RequestTask)
            .where(RequestTask.request_id == requests[answered[0].reference].id)
        )
        assert tasks, "a request from the form gets its tasks"
        outbox = {
            (message.recipient, message.payload["subject"])
            for message in session.scalars(select(OutboxMessage))
        }
        # every answered request is there, for the address it was filed with, with its code
        for filing in answered:
            request = requests.get(filing.reference)
            assert request is not None, f"{filing.reference} was answered but is lost"
            assert request.contact == filing.email
            subjects = {subject for recipient, subject in outbox if recipient == filing.email}
            assert any(filing.reference in subject for subject in subjects), filing.reference
        # nothing half-applied: every request in the database is whole, answered or not
        broken = {
            reference: problems
            for reference, request in requests.items()
            if (problems := _whole(session, request, tasks))
        }
        assert not broken, broken
        assert len(outbox) >= len(requests)
    assert len(requests) >= len(answered) + 1
    assert "Traceback" not in server.log(2).read_text()
