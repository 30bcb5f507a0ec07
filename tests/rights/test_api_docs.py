"""docs/requests-api.md stays true: each curl example is sent to the app in order, with real
keys, and answers with the status the page shows; every route it lists is served."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import test_api_helpers as helpers
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from test_api_helpers import Keys

api_app, keys = helpers.api_app, helpers.keys
DOC = Path(__file__).resolve().parents[2] / "docs" / "requests-api.md"
BLOCK = re.compile(r"```console\n(\$ curl .*?)```", re.DOTALL)
STATUS = re.compile(r"^HTTP/1\.1 (\d{3})", re.MULTILINE)


def _example(block: str) -> tuple[str, str, dict[str, str], str | None, int]:
    command, _, answer = block.partition("\nHTTP/1.1 ")
    found = STATUS.search("HTTP/1.1 " + answer)
    assert found is not None, block
    words = shlex.split(command.removeprefix("$ ").replace("\\\n", " "))
    assert words[0] == "curl"
    method, headers, data, url = "GET", {}, None, ""
    rest = iter(words[1:])
    for word in rest:
        if word == "-X":
            method = next(rest)
        elif word == "-H":
            name, _, value = next(rest).partition(": ")
            headers[name] = value
        elif word == "-d":
            data = next(rest)
        elif word.startswith("http"):
            url = word
    return method, url.removeprefix("http://127.0.0.1:8000"), headers, data, int(found.group(1))


def test_every_curl_example_answers_as_shown(web: TestClient, keys: Keys) -> None:
    tokens = {"<requests:write key>": keys.writer, "<requests:read key>": keys.reader}
    examples = [_example(block) for block in BLOCK.findall(DOC.read_text(encoding="utf-8"))]
    assert len(examples) >= 8
    for method, path, headers, data, status in examples:
        token = headers.pop("Authorization").removeprefix("Bearer ")
        headers["Authorization"] = f"Bearer {tokens[token]}"
        body = json.loads(data) if data is not None else None
        answer = web.request(method, path, headers=headers, json=body)
        assert answer.status_code == status, (method, path, answer.text)
        assert answer.headers["content-type"].startswith("application/json")


def test_the_routes_listed_are_served(api_app: FastAPI) -> None:
    served = {
        f"{method} {context.path}"
        for context in iter_route_contexts(api_app.routes)
        for method in context.methods or ()
    }
    listed = re.findall(r"\| `((?:GET|POST|DELETE) /api/v1/requests[^`]*)`", DOC.read_text())
    assert len(listed) == 5
    assert set(listed) <= served
    assert {r for r in served if r.split()[1].startswith("/api/v1/requests")} == set(listed)
