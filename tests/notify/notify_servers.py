"""Real local servers for the outbox's tests: an SMTP server (aiosmtpd) that records every
message, and an HTTP receiver that checks webhook signatures the way a customer's would."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from jagadata.notify.channels.webhook import verify_signature


@dataclass
class ReceivedEmail:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class SmtpBehaviour:
    """What the server answers: refused recipients, scripted DATA replies, a gate that holds
    every message after the first `hold_after` until `release()`."""

    refuse: dict[str, str] = field(default_factory=dict)
    data_replies: deque[str] = field(default_factory=deque)
    delay: float = 0.0
    hold_after: int | None = None


class RecordingSmtpHandler:
    def __init__(self, behaviour: SmtpBehaviour) -> None:
        self.behaviour = behaviour
        self.received: list[ReceivedEmail] = []
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.held = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self.behaviour.refuse.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.behaviour.data_replies:
            reply = self.behaviour.data_replies.popleft()
            if not reply.startswith("250"):
                return reply
        content = envelope.original_content or b""
        with self.lock:
            self.received.append(
                ReceivedEmail(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content))
            )
            count = len(self.received)
        if self.behaviour.delay:
            await asyncio.sleep(self.behaviour.delay)
        hold_after = self.behaviour.hold_after
        if hold_after is not None and count > hold_after:
            with self.lock:
                self.held += 1
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 30)
        return "250 Message accepted"


class RecordingSmtpServer:
    """An SMTP server on 127.0.0.1 in a thread; `received` lists every accepted message."""

    def __init__(self, behaviour: SmtpBehaviour | None = None) -> None:
        self.behaviour = behaviour or SmtpBehaviour()
        self.handler = RecordingSmtpHandler(self.behaviour)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=_free_port())

    def start(self) -> RecordingSmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.release()
        if self.controller.server is not None:
            self.controller.stop()

    def release(self) -> None:
        self.handler.gate.set()

    @property
    def port(self) -> int:
        return int(self.controller.port)

    @property
    def received(self) -> list[ReceivedEmail]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def held(self) -> int:
        with self.handler.lock:
            return self.handler.held


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class WebhookDelivery:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that verifies each delivery's signature with `secret` and
    answers with the next scripted status (200 once the script is used up)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.statuses: deque[int] = deque()
        self.deliveries: list[WebhookDelivery] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                valid = verify_signature(
                    secret=receiver.secret,
                    body=body,
                    timestamp=headers.get("x-jagadata-timestamp", ""),
                    signature=headers.get("x-jagadata-signature", ""),
                )
                receiver.deliveries.append(WebhookDelivery(self.path, headers, body, valid))
                status = receiver.statuses.popleft() if receiver.statuses else 200
                if not valid:
                    status = 401
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/jagadata"

    def start(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
