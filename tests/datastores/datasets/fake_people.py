"""Made-up Indonesian identities for the test datasets: valid NIKs, mobile numbers written
the ways applications store them, emails in the case people type them."""

from __future__ import annotations

import random
from datetime import date

from faker import Faker

from jagadata.datastores.detect import PROVINCES, is_nik

MOBILE_PREFIXES = ("811", "812", "813", "821", "822", "852", "853", "857", "858", "877", "878")


def seeded(seed: int) -> Faker:
    faker = Faker("id_ID")
    faker.seed_instance(seed)
    return faker


def nik(rng: random.Random, born: date, *, female: bool) -> str:
    """A NIK with a real province code, the birth date (day + 40 for women) and a serial."""
    day = born.day + (40 if female else 0)
    value = (
        f"{rng.choice(sorted(PROVINCES)):02d}{rng.randint(1, 20):02d}{rng.randint(1, 30):02d}"
        f"{day:02d}{born.month:02d}{born.year % 100:02d}{rng.randint(1, 9999):04d}"
    )
    assert is_nik(value), value
    return value


def mobile(rng: random.Random) -> str:
    """An Indonesian mobile number in its national form, 08…."""
    return f"0{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99_999_999):08d}"


def written(national: str, form: str) -> str:
    """The national number 08… written as an application may have stored it."""
    rest = national[1:]
    return {"e164": f"+62{rest}", "digits": f"62{rest}", "national": national}[form]


def spaced(national: str, *, country: bool) -> str:
    """The number as a person types it in a form: with spaces or dashes, +62 or 0 first."""
    rest = national[1:]
    if country:
        return f"+62 {rest[:3]}-{rest[3:7]}-{rest[7:]}"
    return f"0{rest[:3]} {rest[3:7]} {rest[7:]}"


def mixed_case(email: str, rng: random.Random) -> str:
    """The email as someone typed it: some words capitalised, the domain sometimes too."""
    local, domain = email.split("@")
    local = ".".join(part.capitalize() if rng.random() < 0.7 else part for part in local.split("."))
    return f"{local}@{domain.upper() if rng.random() < 0.3 else domain}"
