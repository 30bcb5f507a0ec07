"""docs/consent.md stays true: every HTTP example in it is sent to the app and succeeds, the
commands it names exist, and each consent route it lists is served."""

from __future__ import annotations

import json
import re
from pathlib import Path

from consent_helpers import Keys
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from jagadata.cli.consent import app as consent_cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "consent.md"
EXAMPLE = re.compile(r"```http\n(.*?)```", re.DOTALL)


def test_every_http_example_works(client: TestClient, keys: Keys) -> None:
    tokens = {
        "<consent:write key>": keys.writer,
        "<consent:read key>": keys.reader,
        "<consent:write key of millealab>": keys.millealab,
    }
    examples = EXAMPLE.findall(DOC.read_text(encoding="utf-8"))
    assert len(examples) >= 5
    for example in examples:
        head, _, body = example.partition("\n\n")
        request_line, *header_lines = head.strip().splitlines()
        method, path = request_line.split()
        headers = dict(line.split(": ", 1) for line in header_lines)
        token = headers.pop("Authorization").removeprefix("Bearer ")
        headers["Authorization"] = f"Bearer {tokens[token]}"
        response = client.request(method, path, headers=headers, json=json.loads(body))
        assert response.status_code < 300, (request_line, response.text)
        if path.endswith("/check"):
            assert response.json()["results"][0]["allowed"] is True


def test_the_commands_and_routes_named_exist(consent_app: FastAPI) -> None:
    text = DOC.read_text(encoding="utf-8")
    commands = {c.name for c in consent_cli.registered_commands}
    assert commands == {"verify", "verify-receipt", "expire", "rotate-key"}
    for command in commands:
        assert f"jagadata consent {command}" in text, command
    served = {
        f"{method} {context.path}"
        for context in iter_route_contexts(consent_app.routes)
        for method in context.methods or ()
    }
    named = re.findall(r"`((?:GET|POST) /(?:api/v1/orgs/\{org\}/consent|o/\{org\}|r)[^`?]*)", text)
    assert len(named) >= 12
    for route in named:
        assert route in served, route
