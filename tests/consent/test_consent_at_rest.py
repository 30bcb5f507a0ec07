"""No raw identity lies in the consent ledger: people are named by keyed hashes, the contact
kept for receipts is encrypted (and erasable), and so is each organisation's signing key —
the SQLite file's bytes (and its WAL) hold none of the values written."""

from __future__ import annotations

from pathlib import Path

from faker import Faker

from jagadata.audit.service import Actor
from jagadata.consent import signing
from jagadata.consent.schemas import EventIn
from jagadata.consent.service import record_events
from jagadata.consent.withdrawal import forget_contact, kept_contact
from jagadata.db import atomic, make_engine, session_factory
from jagadata.db.migrate import upgrade
from jagadata.manifest.loader import LoadedManifest
from jagadata.orgs import service as orgs


def test_the_ledger_holds_no_identity_in_clear(
    tmp_path: Path, example_manifests: tuple[LoadedManifest, ...]
) -> None:
    fake = Faker("id_ID")
    fake.seed_instance(25)
    emails = [fake.unique.free_email() for _ in range(4)]
    phones = [f"08{fake.msisdn()[3:13]}" for _ in range(2)]
    database = tmp_path / "jagadata.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as session:
        organisation = orgs.add_organisation(session=session, loaded=example_manifests[0])
    gelato = organisation.organisation.id
    identities = [("email", e) for e in emails] + [("phone", p) for p in phones]
    with factory() as session, atomic(session):
        recorded = record_events(
            session=session,
            organisation_id=gelato,
            actor=Actor.system("test"),
            events=[
                EventIn.model_validate({
                    "kind": "given", "purpose": "marketing", "language": "id",
                    "channel": "whatsapp" if kind == "phone" else "web_form",
                    "subject": {"kind": kind, "value": value}, "keep_contact": True,
                    "evidence": {"ip": "198.51.100.23", "user_agent": f"Mozilla/5.0 {value}"},
                })
                for kind, value in identities
            ],
        )  # fmt: skip
        private = signing.signing_key(session=session, organisation_id=gelato).private_key
    ref = recorded.events[0].subject_ref
    with factory() as session:
        assert kept_contact(session=session, organisation_id=gelato, subject_ref=ref,
                            kind="email") == emails[0]  # fmt: skip
    with factory() as session, atomic(session):
        erased = forget_contact(session=session, organisation_id=gelato, subject_ref=ref,
                                actor=Actor.system("test"))  # fmt: skip
    assert erased == 1
    engine.dispose()

    stored = b"".join(
        path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith("jagadata")
    )
    for _, value in identities:
        assert value.encode() not in stored, "an identity lies in clear"
        assert value.split("@")[0].encode() not in stored
    assert b"198.51.100.23" not in stored and b"198.51.100.0/24" in stored
    assert private.encode() not in stored, "the signing key lies in clear"
    assert ref.encode() in stored  # people are found by their keyed hash
