"""A recorded breach in MilleaLab's mapped platform database (SQLite and PostgreSQL): the right
people are found (children and specific data named), the clock runs 72 hours from discovery,
the Indonesian notices carry the three elements of Art. 46(2), and the timeline is evidence
that detects tampering."""

from __future__ import annotations

from datetime import timedelta

import pytest
from breach_helpers import DISCOVERED, MEASURES, OCCURRED, WHAT, record
from breach_platform import Mapped
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from jagadata.breach import service
from jagadata.breach.clock import reminder_marks
from jagadata.breach.notices import authority_document, subject_notice
from jagadata.breach.states import IncidentStatus
from jagadata.identities import identity_hash
from jagadata.orgs.models import Organisation
from jagadata.rights.service import manifest_in_force


def test_a_breach_of_pupils_data_finds_every_pupil_as_a_child_with_specific_data(
    sessions: sessionmaker[Session], millealab: Mapped
) -> None:
    with sessions() as session:
        incident = record(session, millealab.organisation_id, ["pupil_profile", "assessment"])
        people = {s.person_ref: s for s in service.subjects(session, incident)}
        expected = {identity_hash("reference", nis): nis for nis in millealab.platform.pupils}
        assert set(people) == set(expected)
        for ref, nis in expected.items():
            person = people[ref]
            assert person.child and person.specific
            # a pupil has no contact of their own: the guardian's, from the row pointing at them
            assert person.contact == {
                "email": millealab.platform.guardians[nis],
                "phone": None,
                "via_guardian": True,
            }
        with_assessment = [n for i, n in enumerate(millealab.platform.pupils, 1) if i % 3]
        counts = incident.affected
        assert counts is not None
        assert counts["total"] == len(expected)
        assert counts["children"] == counts["specific"] == len(expected)
        assert counts["by_category"] == {
            "assessment": len(with_assessment),
            "pupil_profile": len(expected),
        }
        session.commit()


def test_a_breach_of_invoices_affects_only_the_teachers_who_have_one(
    sessions: sessionmaker[Session], millealab: Mapped
) -> None:
    with sessions() as session:
        incident = record(session, millealab.organisation_id, ["transactions"])
        people = service.subjects(session, incident)
        platform = millealab.platform
        assert {p.person_ref for p in people} == {
            identity_hash("email", platform.teachers[t]) for t in platform.invoiced
        }
        assert not any(p.child or p.specific for p in people)
        by_email = {p.contact["email"]: p for p in people}
        assert platform.teachers[1].lower() in by_email  # the stored upper case is normalised
        assert incident.affected is not None
        assert incident.affected["by_system"] == {"platform_db": len(platform.invoiced)}
        assert incident.affected["children"] == 0


def test_the_clock_runs_72_hours_from_discovery_not_occurrence(
    sessions: sessionmaker[Session], millealab: Mapped
) -> None:
    with sessions() as session:
        incident = record(session, millealab.organisation_id, ["account"])
        assert incident.occurred_at == OCCURRED
        assert incident.due_at == DISCOVERED + timedelta(hours=72)
        assert incident.due_at != OCCURRED + timedelta(hours=72)
        assert incident.counted_from == "discovery"
        assert incident.deadline["article"] == "46(1)"
        assert reminder_marks(incident.discovered_at, incident.due_at) == [24, 48, 60]
        unknown = record(session, millealab.organisation_id, ["account"], occurred=None)
        assert unknown.due_at == DISCOVERED + timedelta(hours=72)


def test_the_indonesian_notices_carry_the_three_elements_of_article_46_2(
    sessions: sessionmaker[Session], millealab: Mapped
) -> None:
    with sessions() as session:
        incident = record(session, millealab.organisation_id, ["pupil_profile", "assessment"])
        organisation = session.get(Organisation, millealab.organisation_id)
        assert organisation is not None
        _n, manifest = manifest_in_force(session, organisation)
        person = max(service.subjects(session, incident), key=lambda s: len(s.categories))
        assert person.categories == ["assessment", "pupil_profile"]
        notice = subject_notice(incident, manifest, person.categories, "id", child=True)
        text_ = notice.text
        assert "Pasal 46 ayat (1)" in text_
        assert "Profil siswa" in text_ and "Hasil asesmen" in text_  # (a) the data disclosed
        assert "Senin, 23 November 2026 10:15 WIB" in text_  # (b) when it was discovered
        assert "20 November 2026" in text_  # (b) when it happened
        assert WHAT in text_  # (b) how
        assert MEASURES in text_  # (c) handling and recovery
        assert "anak" in text_  # written to the parent or guardian of a child
        assert incident.reference in text_
        english = subject_notice(incident, manifest, person.categories, "en", child=True)
        assert english.text.startswith(text_)  # Indonesian first, then the person's language
        assert "Pupil profile" in english.text and "Indonesian text above prevails" in english.text
        document = authority_document(incident, manifest)
        for element in (
            "Pasal 46 ayat (2) huruf a",
            "Pasal 46 ayat (2) huruf b",
            "Pasal 46 ayat (2) huruf c",
            "Profil siswa",
            WHAT,
            MEASURES,
            "Lembaga",
        ):
            assert element in document
        assert f"<strong>{len(millealab.platform.pupils)}</strong>" in document


def test_the_timeline_verifies_and_detects_tampering(
    sessions: sessionmaker[Session], millealab: Mapped
) -> None:
    with sessions() as session:
        incident = record(session, millealab.organisation_id, ["account"])
        session.commit()
        assert service.verify_timeline(session, incident) is None
        organisation = session.get(Organisation, millealab.organisation_id)
        assert organisation is not None
        evidence = service.evidence(session, incident, organisation)
        assert evidence["chain"]["intact"] is True
        assert [e["kind"] for e in evidence["timeline"]] == ["recorded", "assessed"]
        with pytest.raises(PermissionError):
            service.timeline(session, incident)[0].kind = "closed"
            session.flush()
        session.rollback()
        session.execute(
            text(
                "UPDATE breach_event SET status_after = 'closed' "
                "WHERE incident_id = :i AND sequence = 2"
            ),
            {"i": incident.id},
        )
        session.commit()
        session.expire_all()
        assert service.verify_timeline(session, incident) == 2
        assert service.evidence(session, incident, organisation)["chain"] == {
            "intact": False,
            "broken_at": 2,
            "last_hash": incident.last_hash,
        }
        assert incident.status == IncidentStatus.OPEN.value
