"""A local stand-in for the WhatsApp Cloud API (Graph API `/{phone_number_id}/messages`).

It speaks the real request and response formats: bearer token, JSON body with
messaging_product/to/type and text or template, the answer with contacts and a `wamid.` message
id, and Graph API errors `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`
with the HTTP statuses Meta uses (400 invalid parameter, 401 bad token, 429 throttling, 5xx).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_VERSION = "v21.0"


@dataclass(frozen=True)
class GraphError:
    status: int
    code: int
    message: str
    type: str = "OAuthException"
    subcode: int | None = None

    def document(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.type,
            "code": self.code,
            "fbtrace_id": secrets.token_urlsafe(16),
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        return {"error": error}


INVALID_TOKEN = GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
NOT_ALLOWED = GraphError(
    400, 131030, "(#131030) Recipient phone number not in allowed list", subcode=2655007
)
THROTTLED = GraphError(429, 130429, "(#130429) Rate limit hit", type="OAuthException")
SERVICE_UNAVAILABLE = GraphError(503, 131000, "(#131000) Something went wrong")


@dataclass
class AcceptedMessage:
    body: dict[str, Any]
    wamid: str


@dataclass
class WhatsAppCloudFake:
    token: str
    phone_number_id: str
    unreachable: set[str] = field(default_factory=set)
    scripted: deque[GraphError] = field(default_factory=deque)
    delay: float = 0.0
    accepted: list[AcceptedMessage] = field(default_factory=list)
    requests: int = 0

    def __post_init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{API_VERSION}"

    def start(self) -> WhatsAppCloudFake:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def answer(self, path: str, authorization: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        """The status and JSON document the Cloud API would answer to this request."""
        self.requests += 1
        if self.delay:
            time.sleep(self.delay)
        if path != f"/{API_VERSION}/{self.phone_number_id}/messages":
            return _error(GraphError(400, 100, "Unsupported post request.", "GraphMethodException"))
        if authorization != f"Bearer {self.token}":
            return _error(INVALID_TOKEN)
        if self.scripted:
            return _error(self.scripted.popleft())
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(GraphError(400, 100, "(#100) Invalid parameter"))
        problem = _invalid(body)
        if problem:
            return _error(GraphError(400, 100, f"(#100) {problem}"))
        to = str(body["to"]).lstrip("+")
        if to in self.unreachable:
            return _error(NOT_ALLOWED)
        wamid = "wamid." + base64.b64encode(secrets.token_bytes(24)).decode()
        self.accepted.append(AcceptedMessage(body=body, wamid=wamid))
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": str(body["to"]), "wa_id": to}],
            "messages": [{"id": wamid}],
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, document = fake.answer(
                    self.path, self.headers.get("Authorization", ""), raw
                )
                encoded = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler


def _error(error: GraphError) -> tuple[int, dict[str, Any]]:
    return error.status, error.document()


def _invalid(body: Any) -> str | None:
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return "The parameter messaging_product is required."
    if not str(body.get("to", "")).lstrip("+").isdigit():
        return "The parameter to is required."
    kind = body.get("type", "text")
    if kind == "text":
        text = (body.get("text") or {}).get("body")
        if not isinstance(text, str) or not text or len(text) > 4096:
            return "The parameter text['body'] is required."
        return None
    if kind == "template":
        template = body.get("template") or {}
        if not template.get("name") or not (template.get("language") or {}).get("code"):
            return "The parameter template['name'] is required."
        return None
    return f"Unsupported message type {kind}"
