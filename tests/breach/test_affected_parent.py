"""A reference with `follow: parent` carries the person's data too: teachers whose row points at
a support thread are affected by a breach of the threads, the others are not (SQLite and
PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
import yaml
from breach_helpers import record
from breach_platform import Mapped
from faker import Faker
from sqlalchemy.orm import Session, sessionmaker

from jagadata.breach import service
from jagadata.identities import identity_hash
from jagadata.manifest import load_manifest_text
from jagadata.orgs import service as orgs

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "millealab.yaml"


def test_a_row_the_person_s_row_refers_to_is_theirs(
    sessions: sessionmaker[Session], millealab: Mapped, fake: Faker
) -> None:
    engine = sa.create_engine(millealab.url)
    with engine.begin() as c:
        c.exec_driver_sql(
            "CREATE TABLE support_threads (id INTEGER PRIMARY KEY, message VARCHAR(400))"
        )
        c.exec_driver_sql("ALTER TABLE teachers ADD COLUMN thread_id INTEGER")
        for thread, teacher in ((1, 2), (2, 4)):
            c.execute(
                sa.text("INSERT INTO support_threads VALUES (:i, :m)"),
                {"i": thread, "m": fake.sentence()},
            )
            c.execute(
                sa.text("UPDATE teachers SET thread_id = :t WHERE id = :i"),
                {"t": thread, "i": teacher},
            )
        c.execute(sa.text("INSERT INTO support_threads VALUES (3, NULL)"))
        c.execute(sa.text("UPDATE teachers SET thread_id = 3 WHERE id = 5"))
    engine.dispose()
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    for system in document["systems"]:
        if system["id"] == "platform_db":
            system["categories"].append("feedback")
            tables = system["datastore"]["tables"]
            tables.append(
                {
                    "name": "support_threads",
                    "key": ["id"],
                    "columns": [{"name": "message", "category": "feedback"}],
                }
            )
            teachers = next(t for t in tables if t["name"] == "teachers")
            teachers["references"] = [
                {"columns": ["thread_id"], "table": "support_threads", "follow": "parent"}
            ]
    loaded = load_manifest_text(yaml.safe_dump(document, allow_unicode=True), file="m.yaml")
    with sessions() as session:
        orgs.update_organisation(session=session, loaded=loaded)
        session.commit()
    with sessions() as session:
        incident = record(session, millealab.organisation_id, ["feedback"])
        people = {p.person_ref for p in service.subjects(session, incident)}
    teachers_ = millealab.platform.teachers
    # teacher 5's thread has no message: nothing of theirs was disclosed
    assert people == {identity_hash("email", teachers_[t]) for t in (2, 4)}
