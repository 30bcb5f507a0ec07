"""Schemathesis drives every operation in /openapi.json with generated requests, valid and
invalid, for unknown and for published organisations: no 5xx, and every response matches what
the description promises — on SQLite and on PostgreSQL.

(The operations are walked by hand rather than with `schemathesis.pytest.from_fixture`, whose
lazy loader sets `Function._nodeid`, which pytest 9 no longer has.)
"""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from jagadata.manifest.loader import LoadedManifest


def test_no_request_breaks_the_api(
    app: FastAPI, example_manifests: tuple[LoadedManifest, ...]
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/orgs/{org}/policy", "/healthz"}
    published = [loaded.manifest.organisation.slug for loaded in example_manifests]
    for operation in operations:
        strategies = [operation.as_strategy(mode) for mode in schemathesis.GenerationMode]
        if "{org}" in operation.path:
            strategies += [operation.as_strategy(path_parameters={"org": s}) for s in published]

        @given(case=st.one_of(strategies))
        @settings(
            max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def call(case: schemathesis.Case) -> None:
            # A well-formed request may still be refused by design (a manifest version not in
            # force, a category the banner does not ask about): 422, which no schema expresses.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        call()
