"""docs/banner.md stays true: its request is sent to the app and answered as the page shows, its
problem document is what the app answers, and its B7 lines have the benchmark's format."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

DOC = Path(__file__).resolve().parents[2] / "docs" / "banner.md"


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_documented_request_is_answered_as_documented(client: TestClient) -> None:
    (request,) = blocks("http")
    head, _, body = request.partition("\n\n")
    method, path = head.splitlines()[0].split(" ", 1)
    assert method == "POST"
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    documented = next(json.loads(b) for b in blocks("json") if '"replayed"' in b)
    answer = response.json()
    assert {k: v for k, v in answer.items() if k != "events"} == {
        k: v for k, v in documented.items() if k != "events"
    }
    assert [(e["category"], e["purpose"], e["kind"]) for e in answer["events"]] == [
        (e["category"], e["purpose"], e["kind"]) for e in documented["events"]
    ]
    again = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert again.status_code == 200 and again.json()["replayed"] is True


def test_the_documented_problem_is_what_the_app_answers(client: TestClient) -> None:
    documented = next(json.loads(b) for b in blocks("json") if '"errors"' in b)
    response = client.post(
        "/api/v1/orgs/millealab/banner/choices",
        json={
            "consent_id": "anon_" + "7" * 8 + "a" * 24,
            "choice_id": "b" * 32,
            "language": "id",
            "manifest_version": 1,
            "choices": [{"category": "analytics", "allowed": True}],
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert response.json() == documented


def test_the_documented_gpc_statement_has_the_served_shape(client: TestClient) -> None:
    documented = next(json.loads(b) for b in blocks("json") if '"gpc"' in b)
    assert set(client.get("/.well-known/gpc.json").json()) == set(documented)


def test_the_b7_lines_have_the_benchmark_format() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert re.search(r"^b7_banner_gzip: \d+ bytes \(ratio \d\.\d\d vs budget_8kb\)$", text, re.M)
    assert "b7_banner_gzip_lower_bound:" in text
