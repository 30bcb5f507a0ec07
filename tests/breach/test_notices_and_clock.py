"""Notices go through the outbox to a real local SMTP server, one message per person, each
tracked; the authority's document is sent and the public notice recorded, every step on the
timeline; the DPO and owners are reminded at 24, 48 and 60 hours and told once overdue, once
each even with concurrent sweeps (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from breach_helpers import DISCOVERED, HOUR, MEASURES, WHAT, manifest_of, record, text_of
from breach_platform import Mapped
from notify_servers import RecordingSmtpServer
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from whatsapp_cloud_fake import WhatsAppCloudFake

from jagadata.audit.service import Actor
from jagadata.breach import reminders, service
from jagadata.breach.models import BreachIncident
from jagadata.breach.states import IncidentStatus, NoticeStatus
from jagadata.config import Settings
from jagadata.db.tenancy import scope
from jagadata.jobs import JobQueue

DPO = Actor.user(1, "dpo")
DPO_EMAIL = "dpo@millealab.example"  # examples/millealab.yaml


@pytest.fixture
def mail(smtp_server: RecordingSmtpServer, delivering_queue: JobQueue) -> RecordingSmtpServer:
    return smtp_server


def test_each_person_gets_one_notice_through_the_outbox_tracked_to_delivery(
    sessions: sessionmaker[Session], millealab: Mapped, mail: RecordingSmtpServer
) -> None:
    with sessions() as session:
        incident = record(session, millealab.organisation_id, ["account", "transactions"])
        _organisation, manifest = manifest_of(session, millealab.organisation_id)
        sent = service.notify_subjects(
            session, incident, manifest, actor=DPO, now=DISCOVERED + 3 * HOUR
        )
        session.commit()
        reference = incident.reference
    platform = millealab.platform
    assert sent == {"email": len(platform.teachers), "whatsapp": 0, "no_contact": 0}
    received = {email.recipients[0]: email for email in mail.received}
    assert set(received) == {e.lower() for e in platform.teachers.values()}
    for number, address in platform.teachers.items():
        body = text_of(received[address.lower()])
        assert body.startswith("Yth. Bapak/Ibu,")
        assert "Data akun" in body and WHAT in body and MEASURES in body and reference in body
        assert ("Account data" in body) is (number in platform.english)
        assert "pengasuhan" not in body  # a teacher is written to about their own data
    with sessions() as session:
        scope(session, millealab.organisation_id)
        incident = service.get_incident(session, millealab.organisation_id, reference)
        assert service.delivery(session, incident) == {NoticeStatus.SENT.value: len(received)}
        people = service.subjects(session, incident)
        assert {p.message_id for p in people} == {e.message_id for e in received.values()}
        # asked again, nobody is written to twice
        again = service.notify_subjects(session, incident, manifest, actor=DPO)
        assert again == {"email": 0, "whatsapp": 0, "no_contact": 0}
        session.commit()
    assert len(mail.received) == len(received)


def test_the_authority_and_the_public_are_told_and_everything_is_on_the_timeline(
    sessions: sessionmaker[Session], millealab: Mapped, mail: RecordingSmtpServer
) -> None:
    authority = "aduan@lembaga-pdp.example"
    with sessions() as session:
        incident = record(
            session,
            millealab.organisation_id,
            ["pupil_profile", "assessment"],
            public_interest="Layanan pendidikan sekolah negeri terganggu",
        )
        _organisation, manifest = manifest_of(session, millealab.organisation_id)
        service.notify_subjects(session, incident, manifest, actor=DPO, now=DISCOVERED + 3 * HOUR)
        assert incident.status == IncidentStatus.OPEN.value
        service.notify_authority(
            session, incident, manifest, actor=DPO, to=authority, now=DISCOVERED + 4 * HOUR
        )
        assert incident.status == IncidentStatus.NOTIFIED.value
        page = service.notify_public(
            session,
            incident,
            manifest,
            actor=DPO,
            where="https://millealab.example/pemberitahuan",
            now=DISCOVERED + 5 * HOUR,
        )
        assert "Pasal 46 ayat (3)" in page and WHAT in page
        session.commit()
        organisation, _m = manifest_of(session, millealab.organisation_id)
        evidence = service.evidence(session, incident, organisation)
    guardians = set(millealab.platform.guardians.values())
    assert {e.recipients[0] for e in mail.received} == guardians | {authority}
    for email in mail.received:
        if email.recipients[0] in guardians:
            assert "data anak dalam pengasuhan Anda" in text_of(email)
    [to_authority] = [e for e in mail.received if e.recipients == [authority]]
    html = to_authority.message.get_body(preferencelist=("html",))
    assert html is not None and "Pasal 46 ayat (2) huruf c" in str(html.get_content())
    assert evidence["chain"]["intact"] is True
    kinds = [e["kind"] for e in evidence["timeline"]]
    assert kinds == [
        "recorded",
        "assessed",
        "subjects_notified",
        "authority_notified",
        "public_notified",
    ]
    notified = evidence["timeline"][2]["data"]
    assert notified["email"] == len(guardians)
    assert evidence["timeline"][3]["data"]["message_id"] == to_authority.message_id
    assert evidence["incident"]["notices"] == {NoticeStatus.SENT.value: len(guardians)}


def _sweep(
    sessions: sessionmaker[Session], settings: Settings, hours: float
) -> reminders.SweepReport:
    return reminders.sweep(sessions=sessions, now=DISCOVERED + hours * HOUR, settings=settings)


def _incident(sessions: sessionmaker[Session], mapped: Mapped, reference: str) -> BreachIncident:
    with sessions() as session:
        scope(session, mapped.organisation_id)
        return service.get_incident(session, mapped.organisation_id, reference)


def test_the_dpo_is_reminded_at_24_48_60_hours_and_told_once_overdue(
    sessions: sessionmaker[Session],
    settings: Settings,
    millealab: Mapped,
    mail: RecordingSmtpServer,
) -> None:
    with sessions() as session:
        reference = record(session, millealab.organisation_id, ["account"]).reference
        session.commit()
    assert _sweep(sessions, settings, 23.9).reminded == 0
    assert _sweep(sessions, settings, 24.1).reminded == 1
    assert _sweep(sessions, settings, 30).reminded == 0
    assert _sweep(sessions, settings, 48.5).reminded == 1
    assert _sweep(sessions, settings, 61).reminded == 1
    late = _sweep(sessions, settings, 72.2)
    assert (late.reminded, late.escalated) == (0, 1)
    assert _sweep(sessions, settings, 80).escalated == 0
    incident = _incident(sessions, millealab, reference)
    assert incident.reminders_sent == [24, 48, 60]
    assert incident.escalated_at == DISCOVERED + 72.2 * HOUR
    subjects = [e.message["Subject"] for e in mail.received if e.recipients == [DPO_EMAIL]]
    assert len(subjects) == 4
    assert subjects[0] == f"Insiden {reference}: sisa waktu 47 jam 54 menit untuk memberi tahu"
    assert subjects[-1].startswith(f"Insiden {reference} melewati batas waktu")


def test_a_notified_incident_is_not_reminded(
    sessions: sessionmaker[Session],
    settings: Settings,
    millealab: Mapped,
    mail: RecordingSmtpServer,
) -> None:
    with sessions() as session:
        incident = record(session, millealab.organisation_id, ["account"])
        _organisation, manifest = manifest_of(session, millealab.organisation_id)
        service.notify_subjects(session, incident, manifest, actor=DPO)
        service.notify_authority(session, incident, manifest, actor=DPO, note="diserahkan langsung")
        session.commit()
    report = _sweep(sessions, settings, 73)
    assert (report.reminded, report.escalated) == (0, 0)
    assert not [e for e in mail.received if e.recipients == [DPO_EMAIL]]


def test_concurrent_sweeps_send_each_reminder_once(
    sessions: sessionmaker[Session],
    settings: Settings,
    millealab: Mapped,
    mail: RecordingSmtpServer,
) -> None:
    racers = 3
    with sessions() as session:
        references = [
            record(session, millealab.organisation_id, ["account"]).reference for _ in range(4)
        ]
        session.commit()
    start = threading.Barrier(racers)
    reports: list[reminders.SweepReport] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            start.wait()
            reports.append(_sweep(sessions, settings, 25))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=sweep) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(r.failed for r in reports) == 0
    assert sum(r.reminded for r in reports) == len(references)
    to_dpo = [e for e in mail.received if e.recipients == [DPO_EMAIL]]
    assert len(to_dpo) == len(references)
    for reference in references:
        with sessions() as session:
            scope(session, millealab.organisation_id)
            incident = service.get_incident(session, millealab.organisation_id, reference)
            kinds = [e.kind for e in service.timeline(session, incident)]
            assert kinds.count("reminded") == 1
            assert service.verify_timeline(session, incident) is None


def test_a_person_without_an_email_gets_the_notice_by_whatsapp(
    sessions: sessionmaker[Session],
    millealab: Mapped,
    mail: RecordingSmtpServer,
    whatsapp_cloud: WhatsAppCloudFake,
) -> None:
    engine = create_engine(millealab.url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE teachers SET email = NULL WHERE id = 3"))
    engine.dispose()
    with sessions() as session:
        incident = record(session, millealab.organisation_id, ["account"])
        _organisation, manifest = manifest_of(session, millealab.organisation_id)
        sent = service.notify_subjects(session, incident, manifest, actor=DPO)
        session.commit()
    teachers = millealab.platform.teachers
    assert sent == {"email": len(teachers) - 1, "whatsapp": 1, "no_contact": 0}
    [message] = whatsapp_cloud.accepted
    assert message.body["to"] == millealab.platform.teacher_phones[3].lstrip("+")
    body = message.body["text"]["body"]
    assert "Pasal 46 ayat (1)" in body and WHAT in body and MEASURES in body


def test_facts_too_long_for_one_message_are_refused_in_a_sentence(
    sessions: sessionmaker[Session], millealab: Mapped
) -> None:
    with sessions() as session:
        organisation, manifest = manifest_of(session, millealab.organisation_id)
        facts = service.Facts(
            title="Terlalu panjang",
            what_happened="x" * (service.FACT_LIMIT + 1),
            measures=MEASURES,
            discovered_at=DISCOVERED,
            systems=["platform_db"],
        )
        with pytest.raises(service.BreachProblem) as refused:
            service.record_incident(session, organisation, manifest, facts, actor=DPO)
        assert "satu pesan WhatsApp" in refused.value.render("id")
