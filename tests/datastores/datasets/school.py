"""A school's database, and the oracle of what belongs to whom in it.

Pupils have a text key (the NIS student number, leading zeros and all) and a NIK, and point
at their health record (which is theirs: the reference is followed to its parent); guardians
are found by phone (stored 08…), WhatsApp number (stored +62…) or email (stored lower case)
and linked to pupils through a table with a composite key; enrolments lead to assessment
scores (numbers); activity logs name the pupil by NIS with no foreign key, and teachers'
replies hang under a pupil's entry through a self-reference (parent_id), sometimes two
levels deep. Logs are kept for audit with their personal columns masked; assessment scores
and guardian links are restricted through a side table the application consults.

The oracle reads a snapshot in plain Python, without the engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from database_state import Erasure, Key, Row, Snapshot, digits, fill, national_phone, plain_email
from fake_people import mobile, nik, seeded, spaced, written
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

from jagadata.datastores.results import Person
from jagadata.manifest.mapping import Datastore

SEED = 1945
MAPPING = Path(__file__).with_name("school.yaml")
PUPILS = 36
SUBJECTS = ("Matematika", "Bahasa Indonesia", "IPA", "IPS", "Bahasa Inggris", "PJOK")
OPENED, TODAY = datetime(2024, 7, 1), datetime(2026, 6, 30)
"""The two school years the data covers, whenever the tests run."""
INNODB: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}

metadata = MetaData()
classes = Table(
    "classes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(10), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("homeroom_teacher", String(100), nullable=False),
    **INNODB,
)
health_records = Table(
    "health_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("blood_type", String(3)),
    Column("allergies", Text),
    **INNODB,
)
pupils = Table(
    "pupils",
    metadata,
    Column("nis", String(20), primary_key=True),
    Column("nik", String(16), unique=True),
    Column("full_name", String(100), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("gender", String(1), nullable=False),
    Column("health_record_id", Integer, ForeignKey("health_records.id"), unique=True),
    Column("restricted", Boolean, nullable=False, default=False),
    **INNODB,
)
guardians = Table(
    "guardians",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("full_name", String(100), nullable=False),
    Column("phone", String(20)),
    Column("email", String(254)),
    Column("whatsapp", String(20)),
    Column("occupation", String(100), nullable=False),
    **INNODB,
)
pupil_guardians = Table(
    "pupil_guardians",
    metadata,
    Column("pupil_nis", String(20), ForeignKey("pupils.nis", ondelete="CASCADE"), primary_key=True),
    Column("guardian_id", Integer, ForeignKey("guardians.id"), primary_key=True),
    Column("relation", String(10), nullable=False),
    **INNODB,
)
enrolments = Table(
    "enrolments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("pupil_nis", String(20), ForeignKey("pupils.nis"), nullable=False),
    Column("class_id", Integer, ForeignKey("classes.id"), nullable=False),
    Column("school_year", String(9), nullable=False),
    **INNODB,
)
assessment_scores = Table(
    "assessment_scores",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column(
        "enrolment_id", Integer, ForeignKey("enrolments.id", ondelete="CASCADE"), nullable=False
    ),
    Column("subject", String(50), nullable=False),
    Column("score", Numeric(5, 2, asdecimal=False), nullable=False),
    Column("note", Text),
    Column("assessed_on", Date, nullable=False),
    **INNODB,
)
activity_logs = Table(
    "activity_logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("pupil_nis", String(20)),
    Column("parent_id", Integer, ForeignKey("activity_logs.id", ondelete="CASCADE")),
    Column("happened_at", DateTime, nullable=False),
    Column("action", String(50), nullable=False),
    Column("detail", Text),
    Column("ip_address", String(45)),
    **INNODB,
)
processing_restrictions = Table(
    "processing_restrictions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_name", String(64), nullable=False),
    Column("row_key", String(255), nullable=False),
    Column("restricted_at", DateTime, nullable=False),
    **INNODB,
)

RICH, PLAIN, SIBLING = 0, 1, 2
"""Pupil indexes with a role: rows in every table; one enrolment and nothing else; the rich
pupil's sibling, who shares a guardian (the `guardian` person)."""


@dataclass(frozen=True)
class School:
    rows: dict[str, list[Row]]
    people: dict[str, Person]
    """Requests naming the people with a role, typed unlike the stored values."""


def mapping() -> Datastore:
    return Datastore.model_validate(yaml.safe_load(MAPPING.read_text(encoding="utf-8")))


def _moment(faker: Any) -> datetime:
    moment: datetime = faker.date_time_between(start_date=OPENED, end_date=TODAY)
    return moment.replace(microsecond=0)


def generate() -> School:
    """The school's rows, the same on every run (seeded Faker id_ID)."""
    faker = seeded(SEED)
    rng = faker.random
    rows: dict[str, list[Row]] = {t.name: [] for t in metadata.sorted_tables}
    rows["classes"] = [
        {
            "id": n,
            "name": f"{7 + n // 3}{'ABC'[n % 3]}",
            "school_year": "2025/2026",
            "homeroom_teacher": faker.name(),
        }
        for n in range(6)
    ]
    numbers = rng.sample(range(10_000_000, 99_999_999), PUPILS)
    for index, number in enumerate(numbers):
        female = rng.random() < 0.5
        born: date = faker.date_between(start_date=date(2010, 1, 1), end_date=date(2014, 12, 31))
        record = None
        if index != PLAIN and (index == RICH or rng.random() < 0.6):
            record = len(rows["health_records"]) + 1
            rows["health_records"].append(
                {
                    "id": record,
                    "blood_type": rng.choice(("A", "B", "AB", "O", None)),
                    "allergies": rng.choice(("kacang", "udang", "debu", "susu sapi", None)),
                }
            )
        rows["pupils"].append(
            {
                "nis": f"00{number}",
                "nik": nik(rng, born, female=female) if index != 30 else None,
                "full_name": faker.name_female() if female else faker.name_male(),
                "birth_date": born,
                "gender": "P" if female else "L",
                "health_record_id": record,
                "restricted": False,
            }
        )
    guardian_role = _guardians(faker, rows)
    _enrolments(faker, rows)
    _logs(faker, rows)
    rich, plain = rows["pupils"][RICH], rows["pupils"][PLAIN]
    number = rich["nik"]
    people = {
        "rich": Person.of(nik=f"{number[:4]} {number[4:8]} {number[8:12]} {number[12:]}"),
        "plain": Person.of(nis=plain["nis"]),
        "guardian": Person.of(
            phone=spaced(national_phone(guardian_role["whatsapp"]), country=False),
            email=guardian_role["email"].upper(),
        ),
        "guardian_by_phone": Person.of(phone=spaced(guardian_role["phone"], country=True)),
    }
    return School(rows=rows, people=people)


def _guardians(faker: Any, rows: dict[str, list[Row]]) -> Row:
    """One or two guardians per pupil; the rich pupil and the sibling share their mother;
    now and then two other pupils are siblings too. Returns the shared mother."""
    rng = faker.random

    def guardian(relation: str) -> Row:
        phone = mobile(rng)
        whatsapp = rng.choice((phone, mobile(rng), None))
        row = {
            "id": len(rows["guardians"]) + 1,
            "full_name": faker.name_female() if relation == "ibu" else faker.name_male(),
            "phone": phone,
            "whatsapp": written(whatsapp, "e164") if whatsapp else None,
            "email": faker.unique.email().lower() if rng.random() < 0.8 else None,
            "occupation": faker.job()[:100],
        }
        rows["guardians"].append(row)
        return row

    mother = guardian("ibu")
    mother["email"] = mother["email"] or faker.unique.email().lower()
    mother["whatsapp"] = written(mobile(rng), "e164")
    previous: list[tuple[Row, str]] = []
    for index, pupil in enumerate(rows["pupils"]):
        if index == PLAIN:
            continue
        if index == RICH:
            links = [(mother, "ibu"), (guardian("ayah"), "ayah")]
        elif index == SIBLING:
            links = [(mother, "ibu")]
        elif previous and rng.random() < 0.2:
            links = previous
        else:
            links = [
                (guardian(r), r) for r in rng.sample(("ibu", "ayah", "wali"), rng.randint(1, 2))
            ]
        previous = links
        rows["pupil_guardians"] += [
            {"pupil_nis": pupil["nis"], "guardian_id": g["id"], "relation": relation}
            for g, relation in links
        ]
    return mother


def _enrolments(faker: Any, rows: dict[str, list[Row]]) -> None:
    rng = faker.random
    for index, pupil in enumerate(rows["pupils"]):
        years = {RICH: 2, PLAIN: 1}.get(index, rng.randint(1, 2))
        for year in range(years):
            enrolment = len(rows["enrolments"]) + 1
            rows["enrolments"].append(
                {
                    "id": enrolment,
                    "pupil_nis": pupil["nis"],
                    "class_id": rng.randint(0, 5),
                    "school_year": f"{2024 + year}/{2025 + year}",
                }
            )
            scores = {RICH: 3, PLAIN: 0}.get(index, rng.randint(0, 4))
            for subject in rng.sample(SUBJECTS, scores):
                rows["assessment_scores"].append(
                    {
                        "id": len(rows["assessment_scores"]) + 1,
                        "enrolment_id": enrolment,
                        "subject": subject,
                        "score": rng.randint(4000, 10000) / 100,
                        "note": faker.sentence() if rng.random() < 0.4 else None,
                        "assessed_on": faker.date_between(OPENED.date(), TODAY.date()),
                    }
                )


def _log(faker: Any, rows: dict[str, list[Row]], nis: str | None, parent: int | None) -> int:
    rng = faker.random
    log = len(rows["activity_logs"]) + 1
    rows["activity_logs"].append(
        {
            "id": log,
            "pupil_nis": nis,
            "parent_id": parent,
            "happened_at": _moment(faker),
            "action": rng.choice(("login", "submit", "comment", "download")),
            "detail": faker.sentence() if rng.random() < 0.7 else None,
            "ip_address": faker.ipv4() if nis else None,
        }
    )
    return log


def _logs(faker: Any, rows: dict[str, list[Row]]) -> None:
    """The rich pupil's entries, a teacher's reply under one and a reply to that reply; other
    pupils' entries, some with a reply; system entries that name no pupil."""
    rng = faker.random
    for index, pupil in enumerate(rows["pupils"]):
        count = {RICH: 3, PLAIN: 0}.get(index, rng.randint(0, 2))
        for n in range(count):
            entry = _log(faker, rows, pupil["nis"], None)
            if (index == RICH and n == 0) or (index != RICH and rng.random() < 0.3):
                reply = _log(faker, rows, None, entry)
                if index == RICH:
                    _log(faker, rows, None, reply)
    for _ in range(3):
        _log(faker, rows, None, None)


def create(url: str) -> None:
    """Build the school's schema on `url` and fill it."""
    fill(url, metadata, generate().rows)


def person_rows(state: Snapshot, people: Iterable[Person]) -> dict[str, set[Key]]:
    """The keys of every row that belongs to the people, per mapped table."""
    people = list(people)
    niks = {digits(v) for p in people for v in p.identities.get("nik", ())}
    numbers = {v.strip() for p in people for v in p.identities.get("nis", ())}
    emails = {plain_email(v) for p in people for v in p.identities.get("email", ())}
    phones = {national_phone(v) for p in people for v in p.identities.get("phone", ())}
    found_pupils = {
        k for k, r in state["pupils"].items() if r["nik"] in niks or r["nis"] in numbers
    }
    found_guardians = {
        k
        for k, r in state["guardians"].items()
        if (r["email"] and plain_email(r["email"]) in emails)
        or (r["phone"] and national_phone(r["phone"]) in phones)
        or (r["whatsapp"] and national_phone(r["whatsapp"]) in phones)
    }
    nis = {k[0] for k in found_pupils}
    guardian_ids = {k[0] for k in found_guardians}
    found_enrolments = {k for k, r in state["enrolments"].items() if r["pupil_nis"] in nis}
    enrolment_ids = {k[0] for k in found_enrolments}
    logs = {k for k, r in state["activity_logs"].items() if r["pupil_nis"] in nis}
    while True:
        ids = {k[0] for k in logs}
        replies = {k for k, r in state["activity_logs"].items() if r["parent_id"] in ids}
        if replies <= logs:
            break
        logs |= replies
    records = {state["pupils"][k]["health_record_id"] for k in found_pupils}
    return {
        "pupils": found_pupils,
        "health_records": {k for k in state["health_records"] if k[0] in records},
        "guardians": found_guardians,
        "pupil_guardians": {
            k
            for k, r in state["pupil_guardians"].items()
            if r["pupil_nis"] in nis or r["guardian_id"] in guardian_ids
        },
        "enrolments": found_enrolments,
        "assessment_scores": {
            k for k, r in state["assessment_scores"].items() if r["enrolment_id"] in enrolment_ids
        },
        "activity_logs": logs,
    }


def expected_erasure(
    state: Snapshot,
    people: Iterable[Person],
    *,
    scores_kept: bool = False,
    pupils_kept: bool = False,
    logs_kept: bool = True,
) -> Erasure:
    """Logs stay with their personal columns masked (erase: mask); every other row of the
    people goes: nothing that stays points at them (the logs' NIS has no foreign key).

    With `scores_kept` (assessment scores mapped `erase: mask`), the scores stay, and so do
    the enrolments they point at and the pupils those point at (declared foreign keys).
    With `pupils_kept` (pupils mapped `erase: mask`), the pupils' rows stay, masked. A pupil
    who stays keeps the health record they point at, masked. Without `logs_kept` (logs
    mapped `erase: delete`), the pupils' log entries and the replies under them go."""
    found = person_rows(state, people)
    kept: dict[str, set[Key]] = {"activity_logs": found["activity_logs"] if logs_kept else set()}
    if scores_kept:
        kept["assessment_scores"] = found["assessment_scores"]
        scored = {state["assessment_scores"][k]["enrolment_id"] for k in kept["assessment_scores"]}
        kept["enrolments"] = {k for k in found["enrolments"] if k[0] in scored}
        enrolled = {state["enrolments"][k]["pupil_nis"] for k in kept["enrolments"]}
        kept["pupils"] = {k for k in found["pupils"] if k[0] in enrolled}
    if pupils_kept:
        kept["pupils"] = found["pupils"]
    records = {state["pupils"][k]["health_record_id"] for k in kept.get("pupils", set())}
    kept["health_records"] = {k for k in found["health_records"] if k[0] in records}
    return Erasure(
        found=found,
        deleted={name: keys - kept.get(name, set()) for name, keys in found.items()},
        masked=kept,
    )
