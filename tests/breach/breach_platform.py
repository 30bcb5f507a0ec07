"""MilleaLab's platform database as its manifest maps it (examples/millealab.yaml, system
`platform_db`), filled with seeded Faker id_ID people: teachers, pupils, their guardians,
assessments, invoices and activity. Returns who is where, so tests know the right answer."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from faker import Faker

SCHEMA = (
    "CREATE TABLE teachers (id INTEGER PRIMARY KEY, email VARCHAR(120), phone VARCHAR(20), "
    "full_name VARCHAR(120), school VARCHAR(120), language VARCHAR(5))",
    "CREATE TABLE pupils (nis VARCHAR(12) PRIMARY KEY, full_name VARCHAR(120), birth_date DATE)",
    "CREATE TABLE guardians (id INTEGER PRIMARY KEY, pupil_nis VARCHAR(12) NOT NULL "
    "REFERENCES pupils(nis) ON DELETE CASCADE, full_name VARCHAR(120), email VARCHAR(120), "
    "phone VARCHAR(20))",
    "CREATE TABLE assessments (id INTEGER PRIMARY KEY, pupil_nis VARCHAR(12) NOT NULL "
    "REFERENCES pupils(nis), score INTEGER, taken_on DATE)",
    "CREATE TABLE invoices (id INTEGER PRIMARY KEY, teacher_id INTEGER NOT NULL "
    "REFERENCES teachers(id), billed_to VARCHAR(120), restricted BOOLEAN)",
    "CREATE TABLE activity_log (id INTEGER PRIMARY KEY, teacher_id INTEGER, ip VARCHAR(45))",
)


@dataclass
class Platform:
    teachers: dict[int, str] = field(default_factory=dict)
    """Teacher id -> email as the application wrote it."""
    teacher_phones: dict[int, str] = field(default_factory=dict)
    invoiced: set[int] = field(default_factory=set)
    pupils: list[str] = field(default_factory=list)
    guardians: dict[str, str] = field(default_factory=dict)
    """Pupil NIS -> the guardian's email."""
    english: set[int] = field(default_factory=set)
    """Teachers whose account language is English."""


def build(url: str, fake: Faker, *, teachers: int = 5, pupils: int = 4) -> Platform:
    platform = Platform()
    engine = sa.create_engine(url)
    with engine.begin() as c:
        for statement in SCHEMA:
            c.exec_driver_sql(statement)
        for number in range(1, teachers + 1):
            email = fake.unique.email()
            phone = fake.unique.numerify("+62812########")
            language = "en" if number == 2 else "id"
            c.execute(
                sa.text("INSERT INTO teachers VALUES (:i, :e, :p, :n, :s, :l)"),
                {
                    "i": number,
                    "e": email.upper() if number == 1 else email,
                    "p": phone,
                    "n": fake.name(),
                    "s": fake.company(),
                    "l": language,
                },
            )
            platform.teachers[number] = email
            platform.teacher_phones[number] = phone
            if language == "en":
                platform.english.add(number)
            if number % 2 == 1:
                c.execute(
                    sa.text("INSERT INTO invoices VALUES (:i, :t, :b, :r)"),
                    {"i": number, "t": number, "b": fake.name(), "r": False},
                )
                platform.invoiced.add(number)
            c.execute(
                sa.text("INSERT INTO activity_log VALUES (:i, :t, :ip)"),
                {"i": number, "t": number, "ip": fake.ipv4()},
            )
        assessment = 0
        for number in range(1, pupils + 1):
            nis = f"{2024:04d}{number:04d}"
            c.execute(
                sa.text("INSERT INTO pupils VALUES (:nis, :n, :b)"),
                {
                    "nis": nis,
                    "n": fake.name(),
                    "b": fake.date_of_birth(minimum_age=7, maximum_age=15),
                },
            )
            platform.pupils.append(nis)
            guardian = fake.unique.email()
            c.execute(
                sa.text("INSERT INTO guardians VALUES (:i, :nis, :n, :e, :p)"),
                {"i": number, "nis": nis, "n": fake.name(), "e": guardian, "p": None},
            )
            platform.guardians[nis] = guardian
            for _ in range(number % 3):
                assessment += 1
                c.execute(
                    sa.text("INSERT INTO assessments VALUES (:i, :nis, :s, :d)"),
                    {"i": assessment, "nis": nis, "s": 50 + assessment, "d": fake.date_this_year()},
                )
    engine.dispose()
    return platform


@dataclass
class Mapped:
    """MilleaLab with its platform database built and connected (the `millealab` fixture)."""

    organisation_id: int
    slug: str
    url: str
    platform: Platform
