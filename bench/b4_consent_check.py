"""B4: "may we process this person's data for this purpose now?" over HTTP, against a bare
Starlette endpoint returning a constant, with the same server settings (target >= 0.5x its
requests/s; p99 reported).

    .venv/bin/python bench/b4_consent_check.py [--seconds 10] [--connections 16] [--people 10000]
                                               [--databases sqlite,postgresql]

For each database: a scratch database with La Gelato Academy published and `--people` people
whose marketing consent is given, withdrawn or refused (some never asked); uvicorn (one
process, loopback) serves the consent API; wrk POSTs `/api/v1/orgs/{org}/consent/check` for
1,000 different people in turn, with the API key. The baseline is uvicorn serving a bare
Starlette endpoint, hit by the same wrk script; a constant endpoint added to the same jagadata
app (FastAPI, CSRF, security headers, error pages) shows what the framework costs before any
consent code runs. Before the load, 300 answers are checked against
what was recorded; during it, any non-2xx answer is counted as a failure.
Prints one line per figure and writes bench/results/b4.json.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _common import (
    Load,
    Prepared,
    line,
    post_script,
    prepare,
    scratch_database,
    server,
    write_results,
    wrk,
)

KINDS = (("given", 0.7), ("withdrawn", 0.15), ("refused", 0.1), (None, 0.05))
SAMPLE = 300
REQUEST_BODIES = 1000


def seed(prepared: Prepared, people: int, rng: random.Random) -> dict[str, str | None]:
    """Record each person's marketing consent (the last event decides); their expected state."""
    from jagadata.audit.service import Actor
    from jagadata.consent.schemas import EventIn
    from jagadata.consent.service import record_events
    from jagadata.db import atomic, make_engine, session_factory

    engine = make_engine(prepared.database_url)
    factory = session_factory(engine)
    expected: dict[str, str | None] = {}
    start = datetime.now(UTC) - timedelta(days=30)
    refs = [f"anon_{rng.getrandbits(128):032x}" for _ in range(people)]
    for ref in refs:
        expected[ref] = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
    recorded = [ref for ref in refs if expected[ref] is not None]
    for offset in range(0, len(recorded), 1000):
        chunk = recorded[offset : offset + 1000]
        events = []
        for ref in chunk:
            events.append(_event(ref, "given" if expected[ref] != "refused" else "refused", start))
            if expected[ref] == "withdrawn":
                events.append(_event(ref, "withdrawn", start + timedelta(days=1)))
        with factory() as session, atomic(session):
            record_events(
                session=session,
                organisation_id=prepared.organisation_id,
                events=[EventIn.model_validate(e) for e in events],
                actor=Actor.system("bench"),
            )
    engine.dispose()
    return expected


def _event(ref: str, kind: str, moment: datetime) -> dict[str, Any]:
    return {"kind": kind, "purpose": "marketing", "subject_ref": ref, "language": "id",
            "channel": "web_form", "occurred_at": moment.isoformat()}  # fmt: skip


def verify(base: str, prepared: Prepared, expected: dict[str, str | None], refs: list[str]) -> int:
    """Check answers against what was recorded; the number checked (exit on a wrong one)."""
    url = f"{base}/api/v1/orgs/{prepared.slug}/consent/check"
    headers = {"authorization": f"Bearer {prepared.token}"}
    with httpx.Client(timeout=30) as client:
        for ref in refs:
            response = client.post(url, json={"subject_ref": ref, "purpose": "marketing"},
                                   headers=headers)  # fmt: skip
            response.raise_for_status()
            [answer] = response.json()["results"]
            want = expected[ref]
            reason = want if want is not None else "never_asked"
            if answer["reason"] != reason or answer["allowed"] != (want == "given"):
                sys.exit(f"b4: wrong answer for {ref}: {answer} (expected {reason})")
    return len(refs)


def measure(prepared: Prepared, people: int, seconds: int, connections: int) -> dict[str, Any]:
    rng = random.Random(4)
    expected = seed(prepared, people, rng)
    refs = list(expected)
    with tempfile.TemporaryDirectory() as folder:
        bodies = [{"subject_ref": ref, "purpose": "marketing"} for ref in refs[:REQUEST_BODIES]]
        headers = {"Authorization": f"Bearer {prepared.token}"}
        script = post_script(Path(folder) / "check.lua", bodies, headers)
        consent_runs: list[Load] = []
        bare_runs: list[Load] = []
        framework_runs: list[Load] = []
        checked = 0
        for _ in range(2):  # alternate, keep the best of each: the machine is shared
            with server("_common:bare_app", prepared.environment) as base:
                wrk(f"{base}/check", script=script, seconds=1, connections=connections)
                bare_runs.append(wrk(f"{base}/check", script=script, seconds=seconds,
                                     connections=connections))  # fmt: skip
            with server("_common:framework_app", prepared.environment) as base:
                url = f"{base}/api/v1/bench/constant"
                wrk(url, script=script, seconds=1, connections=connections)
                framework_runs.append(wrk(url, script=script, seconds=seconds,
                                          connections=connections))  # fmt: skip
            with server("_common:consent_app", prepared.environment) as base:
                checked += verify(base, prepared, expected, rng.sample(refs, SAMPLE // 2))
                url = f"{base}/api/v1/orgs/{prepared.slug}/consent/check"
                wrk(url, script=script, seconds=1, connections=connections)
                consent_runs.append(wrk(url, script=script, seconds=seconds,
                                        connections=connections))  # fmt: skip
    consent = max(consent_runs, key=lambda load: load.requests_per_s)
    bare = max(bare_runs, key=lambda load: load.requests_per_s)
    framework = max(framework_runs, key=lambda load: load.requests_per_s)
    failures = sum(load.errors for load in consent_runs + bare_runs + framework_runs)
    if failures:
        sys.exit(f"b4: {failures} requests failed under load")
    return {
        "consent_check": consent.__dict__,
        "bare_starlette": bare.__dict__,
        "constant_in_jagadata_app": framework.__dict__,
        "ratio_vs_constant_in_jagadata_app": round(
            consent.requests_per_s / framework.requests_per_s, 3
        ),
        "ratio_requests_per_s": round(consent.requests_per_s / bare.requests_per_s, 3),
        "ratio_p99": round(consent.p99_ms / bare.p99_ms, 2),
        "answers_verified": checked,
        "people": people,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    results: dict[str, Any] = {"benchmark": "b4_consent_check", "seconds": args.seconds,
                               "connections": args.connections, "target_ratio": 0.5}  # fmt: skip
    for kind in args.databases.split(","):
        with scratch_database(kind) as url, tempfile.TemporaryDirectory() as data:
            result = measure(prepare(url, Path(data)), args.people, args.seconds, args.connections)
        results[kind] = result
        consent, bare = result["consent_check"], result["bare_starlette"]
        print(line(f"b4_check_{kind}", consent["requests_per_s"], "req/s",
                   result["ratio_requests_per_s"], "bare_starlette"))  # fmt: skip
        print(line(f"b4_check_{kind}_p99", consent["p99_ms"], "ms", result["ratio_p99"],
                   "bare_starlette_p99"))  # fmt: skip
        print(
            line(
                f"b4_check_{kind}_vs_app",
                consent["requests_per_s"],
                "req/s",
                result["ratio_vs_constant_in_jagadata_app"],
                "constant_in_jagadata_app",
            )
        )
        print(
            line(
                f"b4_constant_in_jagadata_app_{kind}",
                result["constant_in_jagadata_app"]["requests_per_s"],
                "req/s",
                result["constant_in_jagadata_app"]["requests_per_s"] / bare["requests_per_s"],
                "bare_starlette",
            )
        )
        print(line(f"b4_bare_starlette_{kind}", bare["requests_per_s"], "req/s", 1.0,
                   "bare_starlette"))  # fmt: skip
        sys.stdout.flush()
    write_results("b4", results)


if __name__ == "__main__":
    main()
