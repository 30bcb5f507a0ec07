"""Fixtures for the policy's tests: the example manifests and a seeded Indonesian Faker."""

from __future__ import annotations

import pytest
from faker import Faker
from policy_helpers import ROOT

from jagadata.manifest import load_manifest
from jagadata.manifest.schema import Manifest


@pytest.fixture(scope="session")
def gelato() -> Manifest:
    return load_manifest(ROOT / "examples" / "la-gelato-academy.yaml").manifest


@pytest.fixture(scope="session")
def millealab() -> Manifest:
    return load_manifest(ROOT / "examples" / "millealab.yaml").manifest


@pytest.fixture
def faker() -> Faker:
    fake = Faker("id_ID")
    fake.seed_instance(2027)
    return fake
