"""Schemathesis drives the opt-in operations in /openapi.json (ask, withdrawal links, one-click
withdrawal) with generated requests, valid and invalid: no 5xx, and every answer is one the
description promises — on SQLite and on PostgreSQL."""

from __future__ import annotations

import schemathesis
from consent_helpers import GELATO, Keys, bearer
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

OPT_IN_OPERATIONS = {
    "POST /api/v1/orgs/{org}/consent/opt-ins",
    "POST /api/v1/orgs/{org}/consent/withdrawal-links",
    "POST /api/v1/orgs/{org}/consent/unsubscribe/{token}",
}


def test_no_request_breaks_the_opt_in_api(consent_app: FastAPI, keys: Keys) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", consent_app)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if f"{result.ok().method.upper()} {result.ok().path}" in OPT_IN_OPERATIONS
    ]
    assert len(operations) == len(OPT_IN_OPERATIONS)
    for operation in operations:
        strategies = [
            operation.as_strategy(mode, path_parameters={"org": GELATO})
            for mode in schemathesis.GenerationMode
        ]
        strategies.append(operation.as_strategy())

        @given(case=st.one_of(strategies))
        @settings(
            max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=bearer(keys.writer),
                excluded_checks=[positive_data_acceptance, ignored_auth],
            )

        call()
