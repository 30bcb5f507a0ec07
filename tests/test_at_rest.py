"""Nothing personal or secret lies in jagadata's SQLite file in clear: after writing sample
people, accounts, keys, outbox messages and audit entries, the file's bytes (and its WAL) hold
none of the values written — only ciphertexts and keyed hashes."""

from __future__ import annotations

from pathlib import Path

from faker import Faker
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from jagadata.accounts.keys import create_key
from jagadata.accounts.roles import Role
from jagadata.accounts.service import add_user, issue_sign_in_link
from jagadata.audit.service import SYSTEM, record
from jagadata.db import make_engine, session_factory
from jagadata.db.migrate import upgrade
from jagadata.identities import identity_hash
from jagadata.manifest.loader import LoadedManifest
from jagadata.notify.service import enqueue_email, enqueue_webhook, enqueue_whatsapp
from jagadata.orgs import service as orgs


def test_the_database_file_holds_no_plaintext(
    tmp_path: Path, example_manifests: tuple[LoadedManifest, ...]
) -> None:
    fake = Faker("id_ID")
    fake.seed_instance(46)
    people = [(fake.name(), fake.free_email(), f"08{fake.msisdn()[3:13]}") for _ in range(5)]
    staff_email = fake.company_email()
    database = tmp_path / "jagadata.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    secrets: dict[str, str] = {}
    with session_factory(engine)() as session:
        organisation = orgs.add_organisation(
            session=session, loaded=example_manifests[0]
        ).organisation
    with session_factory(engine)() as session, session.begin():
        organisation = session.merge(organisation)
        user, _ = add_user(
            session=session,
            email=staff_email,
            organisation=organisation,
            role=Role.STAFF,
            actor=SYSTEM,
        )
        secrets["sign-in link"] = issue_sign_in_link(session=session, user=user, actor=SYSTEM)
        _, secrets["API key"] = create_key(
            session=session,
            organisation_id=organisation.id,
            name="toko",
            scopes=["consent:read"],
            actor=SYSTEM,
        )
        for index, (name, email, phone) in enumerate(people):
            body = f"Halo {name}, permohonan Anda sudah kami terima."
            enqueue_email(
                session=session,
                organisation_id=organisation.id,
                to=email,
                subject=f"Permohonan {name}",
                text=body,
            )
            enqueue_whatsapp(session=session, organisation_id=organisation.id, to=phone, text=body)
            enqueue_webhook(
                session=session,
                organisation_id=organisation.id,
                url="https://hooks.example.id/jagadata",
                event="request.received",
                payload={"name": name, "email": email},
                secret=f"webhook-secret-{index}-{fake.sha1()}",
            )
            record(
                session=session,
                organisation_id=organisation.id,
                actor=SYSTEM,
                action="person.viewed",
                subject_ref=identity_hash("email", email),
            )
    engine.dispose()
    create_engine(f"sqlite:///{database}").dispose()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("jagadata.sqlite3*") if p.is_file())
    assert len(stored) > 10_000
    plaintexts = {"staff email": staff_email, **secrets}
    for index, (name, email, phone) in enumerate(people):
        plaintexts |= {
            f"name {index}": name,
            f"email {index}": email,
            f"phone {index}": phone,
            f"phone E.164 {index}": "+62" + phone[1:],
        }
    found = [label for label, value in plaintexts.items() if value.encode() in stored]
    assert not found, f"in clear in the SQLite file: {found}"
    assert b"jd1:" in stored  # the values are there, encrypted


def test_the_check_can_fail(tmp_path: Path) -> None:
    """The same scan finds a value that is stored in clear (so the test above means something)."""
    database = tmp_path / "plain.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session, session.begin():
        session.connection().exec_driver_sql("CREATE TABLE t (v TEXT)")
        session.connection().exec_driver_sql("INSERT INTO t VALUES ('budi@contoh.id')")
    engine.dispose()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("plain.sqlite3*") if p.is_file())
    assert b"budi@contoh.id" in stored
