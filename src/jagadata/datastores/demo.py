"""A demo platform database for the MilleaLab example, so the first run of jagadata shows the
engine at work: teachers, their classes, pupils with their guardians and assessment scores,
invoices kept ten years for tax, and a website activity log that refers to teachers by
convention only. Every person in it is generated (Faker, Indonesian locale, fixed seed).

    jagadata datastore demo-database millealab data/millealab-platform.sqlite3
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

import sqlalchemy as sa

TEACHERS: Final = 12
PUPILS_PER_CLASS: Final = 8

metadata = sa.MetaData()
teachers = sa.Table(
    "teachers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("email", sa.String(120), nullable=False),
    sa.Column("full_name", sa.String(120), nullable=False),
    sa.Column("phone", sa.String(20)),
    sa.Column("school", sa.String(120)),
)
classes = sa.Table(
    "classes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("teacher_id", sa.Integer, sa.ForeignKey("teachers.id"), nullable=False),
    sa.Column("name", sa.String(40), nullable=False),
)
pupils = sa.Table(
    "pupils",
    metadata,
    sa.Column("nis", sa.String(12), primary_key=True),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id"), nullable=False),
    sa.Column("full_name", sa.String(120), nullable=False),
    sa.Column("birth_date", sa.Date),
)
guardians = sa.Table(
    "guardians",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column(
        "pupil_nis", sa.String(12), sa.ForeignKey("pupils.nis", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("full_name", sa.String(120)),
    sa.Column("email", sa.String(120)),
    sa.Column("phone", sa.String(20)),
)
assessments = sa.Table(
    "assessments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("pupil_nis", sa.String(12), sa.ForeignKey("pupils.nis"), nullable=False),
    sa.Column("subject", sa.String(40), nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("taken_on", sa.Date, nullable=False),
)
invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("teacher_id", sa.Integer, sa.ForeignKey("teachers.id"), nullable=False),
    sa.Column("billed_to", sa.String(120), nullable=False),
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("restricted", sa.Boolean, nullable=False, default=False),
)
activity_log = sa.Table(
    "activity_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("teacher_id", sa.Integer),  # no foreign key: the log is written by another service
    sa.Column("path", sa.String(200), nullable=False),
    sa.Column("ip", sa.String(45)),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

SUBJECTS: Final = ("matematika", "ipa", "bahasa_indonesia", "bahasa_inggris")
PATHS: Final = ("/kelas", "/asesmen", "/laporan", "/vr/tata-surya", "/vr/sel-hewan")


def create_demo_database(path: Path, *, seed: int = 2022) -> bool:
    """Create and fill the demo database at `path`; False when it already exists."""
    if path.exists():
        return False
    from faker import Faker  # a demo-only need: imported where it is used

    fake = Faker("id_ID")
    fake.seed_instance(seed)
    pick = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    today = date(2026, 11, 1)
    rows: dict[sa.Table, list[dict[str, object]]] = {t: [] for t in metadata.sorted_tables}
    for teacher in range(1, TEACHERS + 1):
        name = fake.name()
        rows[teachers].append(
            {
                "id": teacher,
                "email": fake.unique.email(),
                "full_name": name,
                "phone": fake.phone_number(),
                "school": f"SD {fake.city()}",
            }
        )
        rows[classes].append({"id": teacher, "teacher_id": teacher, "name": f"Kelas {teacher}A"})
        for number in range(PUPILS_PER_CLASS):
            nis = f"{2400000 + teacher * 100 + number}"
            rows[pupils].append(
                {
                    "nis": nis,
                    "class_id": teacher,
                    "full_name": fake.name(),
                    "birth_date": fake.date_between(date(2013, 1, 1), date(2017, 12, 31)),
                }
            )
            rows[guardians].append(
                {
                    "id": len(rows[guardians]) + 1,
                    "pupil_nis": nis,
                    "full_name": fake.name(),
                    "email": fake.unique.email(),
                    "phone": fake.phone_number(),
                }
            )
            for subject in SUBJECTS:
                rows[assessments].append(
                    {
                        "id": len(rows[assessments]) + 1,
                        "pupil_nis": nis,
                        "subject": subject,
                        "score": pick.randint(55, 100),
                        "taken_on": today - timedelta(days=pick.randint(1, 300)),
                    }
                )
        for month in range(1, 4):
            rows[invoices].append(
                {
                    "id": f"INV-{teacher:03d}-{month:02d}",
                    "teacher_id": teacher,
                    "billed_to": name,
                    "amount": 150_000,
                    "issued_on": date(2026, month, 5),
                    "restricted": False,
                }
            )
        for _ in range(6):
            rows[activity_log].append(
                {
                    "id": len(rows[activity_log]) + 1,
                    "teacher_id": teacher,
                    "path": pick.choice(PATHS),
                    "ip": fake.ipv4_private(),
                    "at": datetime(2026, 10, 1, tzinfo=UTC) + timedelta(hours=pick.randint(0, 700)),
                }
            )
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            connection.execute(table.insert(), rows[table])
    engine.dispose()
    return True
