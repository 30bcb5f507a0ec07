"""docs/children.md stays true: its HTTP examples are sent to the app and succeed (the code
read from the email the example sent), and every route it names is served."""

from __future__ import annotations

import json
import re
from pathlib import Path

from children_helpers import code_in
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from notify_servers import RecordingSmtpServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "children.md"
EXAMPLE = re.compile(r"```http\n(.*?)```", re.DOTALL)


def test_every_http_example_works(
    web: TestClient, api_key: str, smtp_server: RecordingSmtpServer
) -> None:
    examples = EXAMPLE.findall(DOC.read_text(encoding="utf-8"))
    assert len(examples) == 2
    found: dict[str, str] = {"<consent:write key of millealab>": api_key}
    for example in examples:
        for placeholder, value in found.items():
            example = example.replace(placeholder, value)
        head, _, body = example.partition("\n\n")
        request_line, *header_lines = head.strip().splitlines()
        method, path = request_line.split()
        headers = dict(line.split(": ", 1) for line in header_lines)
        response = web.request(method, path, headers=headers, json=json.loads(body))
        assert response.status_code == 201, (request_line, response.text)
        answer = response.json()
        if path.endswith("/verifications"):
            assert answer["status"] == "pending" and answer["attempts_left"] == 5
            found["<id>"] = answer["id"]
            found["<code from the message>"] = code_in(smtp_server.received[-1])
        else:
            assert answer["status"] == "decided"
            assert [e["child"] for e in answer["events"]] == [False, True]
            assert answer["events"][1]["guardian_ref"] == answer["guardian_ref"]


def test_the_routes_named_are_served(app: FastAPI) -> None:
    text = DOC.read_text(encoding="utf-8")
    served = {
        f"{method} {context.path}"
        for context in iter_route_contexts(app.routes)
        for method in context.methods or ()
    }
    named = re.findall(r"`((?:GET|POST) /(?:api/v1/orgs/\{org\}/guardians|o/\{org\})[^`?]*)`", text)
    named += [
        part.strip()
        for cell in re.findall(r"`(GET [^`]+ → POST [^`]+)`", text)
        for part in cell.split("→")
    ]
    assert len(named) >= 10
    for route in named:
        assert route.split("?")[0] in served, route
