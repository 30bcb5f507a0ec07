"""Schemathesis drives every consent operation in /openapi.json with generated requests, valid
and invalid, with a real API key of the organisation: no 5xx, and every response matches what
the description promises — on SQLite and on PostgreSQL."""

from __future__ import annotations

import schemathesis
from consent_helpers import GELATO, Keys, bearer
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance


def test_no_request_breaks_the_consent_api(consent_app: FastAPI, keys: Keys) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", consent_app)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if result.ok().path.startswith("/api/v1/orgs/{org}/consent")
    ]
    assert len(operations) == 11
    for operation in operations:
        strategies = [
            operation.as_strategy(mode, path_parameters={"org": GELATO})
            for mode in schemathesis.GenerationMode
        ]
        strategies.append(operation.as_strategy())

        @given(case=st.one_of(strategies))
        @settings(
            max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=bearer(keys.writer),
                excluded_checks=[positive_data_acceptance, ignored_auth],
            )

        call()
