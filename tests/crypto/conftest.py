from __future__ import annotations

import pytest
from faker import Faker


@pytest.fixture
def faker_id() -> Faker:
    fake = Faker("id_ID")
    fake.seed_instance(20261123)
    return fake
