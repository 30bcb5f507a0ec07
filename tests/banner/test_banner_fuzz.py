"""Schemathesis drives the banner's recording endpoint with generated requests, valid and
invalid, for unknown and published organisations: no 5xx, and every answer is one the OpenAPI
description promises (status, JSON body) — on SQLite and PostgreSQL."""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from jagadata.manifest.loader import LoadedManifest


def test_no_request_breaks_the_recording_endpoint(
    app: FastAPI, example_manifests: tuple[LoadedManifest, ...]
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    operations = [op for op in found if "/banner/" in op.path]
    assert [op.path for op in operations] == ["/api/v1/orgs/{org}/banner/choices"]
    published = [loaded.manifest.organisation.slug for loaded in example_manifests]
    for operation in operations:
        strategies = [operation.as_strategy(mode) for mode in schemathesis.GenerationMode]
        strategies += [operation.as_strategy(path_parameters={"org": s}) for s in published]

        @given(case=st.one_of(strategies))
        @settings(
            max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def call(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
            # Well-formed is not acceptable: a version not in force or a category this
            # banner does not ask about is a 422 by design, which no schema can express.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        call()
