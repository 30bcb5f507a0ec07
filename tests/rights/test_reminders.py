"""Requests kept on time by the sweep (SQLite and PostgreSQL), time moved by explicit `now`:
reminders to the handlers at 50 % and 80 % (each once), none while paused or once closed, an
escalation to the DPO (or the owners) once overdue, the person's acknowledgement once verified,
and requests never verified closed after the manifest's time with the person told how to file
again. Messages go through the outbox to a real SMTP server."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from faker import Faker
from notify_servers import ReceivedEmail, RecordingSmtpServer
from rights_helpers import text_of
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.accounts import service as accounts
from jagadata.accounts.roles import Role
from jagadata.audit.service import Actor
from jagadata.config import Settings
from jagadata.db import session_factory
from jagadata.db.tenancy import scope
from jagadata.jobs import JobQueue
from jagadata.notify.models import OutboxMessage
from jagadata.orgs.models import Organisation
from jagadata.rights import reminders, service
from jagadata.rights.models import RequestEvent, RightsRequest
from jagadata.rights.states import PauseReason, RequestStatus

RECEIVED = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 09:00 WIB
HOUR = timedelta(hours=1)


@dataclass
class Org:
    id: int
    slug: str
    owner: str
    staff: str
    viewer: str
    staff_id: int


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return session_factory(migrated_engine)


@pytest.fixture
def fake() -> Faker:
    fake = Faker("id_ID")
    fake.seed_instance(2022_27)
    return fake


def members_of(sessions: sessionmaker[Session], fake: Faker, slug: str) -> Org:
    with sessions() as session:
        organisation = session.scalars(select(Organisation).where(Organisation.slug == slug)).one()
        emails = {role: f"{role.value}.{fake.user_name()}@example.test" for role in Role}
        users = {}
        for role in (Role.OWNER, Role.STAFF, Role.VIEWER):
            users[role], _ = accounts.add_user(
                session=session,
                email=emails[role],
                organisation=organisation,
                role=role,
                actor=Actor.system(),
            )
        session.commit()
        return Org(
            organisation.id,
            slug,
            emails[Role.OWNER],
            emails[Role.STAFF],
            emails[Role.VIEWER],
            users[Role.STAFF].id,
        )


@pytest.fixture
def gelato(settings: Settings, sessions: sessionmaker[Session], fake: Faker) -> Org:
    """La Gelato Academy: no DPO in its manifest, an owner, a staff member and a viewer."""
    return members_of(sessions, fake, "la-gelato-academy")


@pytest.fixture
def mail(smtp_server: RecordingSmtpServer, delivering_queue: JobQueue) -> RecordingSmtpServer:
    return smtp_server


def file(
    sessions: sessionmaker[Session],
    org: Org,
    fake: Faker,
    *,
    verified: bool = True,
    at: datetime = RECEIVED,
    value: str | None = None,
) -> str:
    with sessions() as session:
        scope(session, org.id)
        organisation = session.get(Organisation, org.id)
        assert organisation is not None
        filed = service.file_request(
            session=session,
            organisation=organisation,
            right="access",
            identifier="email",
            value=value or fake.email(),
            language="id",
            received_at=at,
        )
        if verified:
            assert filed.code is not None
            service.verify_code(session, filed.request, filed.code, now=at + timedelta(minutes=5))
        session.commit()
        return filed.request.reference


def load(sessions: sessionmaker[Session], org: Org, reference: str) -> RightsRequest:
    with sessions() as session:
        scope(session, org.id)
        return session.scalars(
            select(RightsRequest).where(RightsRequest.reference == reference)
        ).one()


def kinds(sessions: sessionmaker[Session], org: Org, reference: str) -> list[str]:
    with sessions() as session:
        scope(session, org.id)
        request = session.scalars(
            select(RightsRequest).where(RightsRequest.reference == reference)
        ).one()
        assert service.verify_timeline(session, request) is None
        return [event.kind for event in service.timeline(session, request)]


def run(
    sessions: sessionmaker[Session], org: Org, settings: Settings, at: datetime
) -> reminders.SweepReport:
    return reminders.sweep_organisation(
        sessions=sessions, organisation_id=org.id, now=at, settings=settings
    )


def to(server: RecordingSmtpServer, address: str) -> list[ReceivedEmail]:
    return [email for email in server.received if address in email.recipients]


def subjects(server: RecordingSmtpServer, address: str) -> list[str]:
    return [str(email.message["Subject"]) for email in to(server, address)]


def test_handlers_are_reminded_at_half_and_four_fifths_once_each(
    settings: Settings,
    sessions: sessionmaker[Session],
    gelato: Org,
    mail: RecordingSmtpServer,
    fake: Faker,
) -> None:
    reference = file(sessions, gelato, fake)
    assert run(sessions, gelato, settings, RECEIVED + 35 * HOUR).reminded == 0
    assert subjects(mail, gelato.staff) == []

    first = run(sessions, gelato, settings, RECEIVED + 37 * HOUR)  # 51 % of 72 hours
    assert first.reminded == 1
    assert run(sessions, gelato, settings, RECEIVED + 37 * HOUR).reminded == 0
    assert run(sessions, gelato, settings, RECEIVED + 50 * HOUR).reminded == 0
    for address in (gelato.owner, gelato.staff):  # unassigned: everyone who handles requests
        [email] = to(mail, address)
        body = text_of(email)
        assert reference in str(email.message["Subject"])
        assert f"http://testserver/admin/o/la-gelato-academy/requests/{reference}" in body
        assert "50%" in body
        assert "Pasal 32 ayat (2) UU PDP" in body  # the 72 hours, from the law
        assert "Minggu, 29 November 2026 09" in body and "WIB" in body  # the zone's clock
        assert email.message["Content-Language"] == "id"
    assert to(mail, gelato.viewer) == []

    second = run(sessions, gelato, settings, RECEIVED + 58 * HOUR)  # 80.6 %
    assert second.reminded == 1
    assert run(sessions, gelato, settings, RECEIVED + 60 * HOUR).reminded == 0
    assert ["80%" in text_of(email) for email in to(mail, gelato.staff)] == [False, True]
    request = load(sessions, gelato, reference)
    assert request.reminders_sent == [0.5, 0.8]
    assert request.escalated_at is None
    assert kinds(sessions, gelato, reference).count("reminded") == 2


def test_only_the_assignee_is_reminded_when_there_is_one(
    settings: Settings,
    sessions: sessionmaker[Session],
    gelato: Org,
    mail: RecordingSmtpServer,
    fake: Faker,
) -> None:
    reference = file(sessions, gelato, fake)
    with sessions() as session:
        scope(session, gelato.id)
        request = session.scalars(
            select(RightsRequest).where(RightsRequest.reference == reference)
        ).one()
        request.assignee_id = gelato.staff_id
        session.commit()
    assert run(sessions, gelato, settings, RECEIVED + 40 * HOUR).reminded == 1
    assert len(to(mail, gelato.staff)) == 1
    assert to(mail, gelato.owner) == []


def test_a_paused_request_is_not_reminded_and_its_clock_resumes_where_it_stopped(
    settings: Settings,
    sessions: sessionmaker[Session],
    gelato: Org,
    mail: RecordingSmtpServer,
    fake: Faker,
) -> None:
    reference = file(sessions, gelato, fake)
    with sessions() as session:
        scope(session, gelato.id)
        request = session.scalars(
            select(RightsRequest).where(RightsRequest.reference == reference)
        ).one()
        service.pause(
            session,
            request,
            actor=Actor.system(),
            reason=PauseReason.AWAITING_INFORMATION,
            now=RECEIVED + 10 * HOUR,
        )
        session.commit()
    report = run(sessions, gelato, settings, RECEIVED + 100 * HOUR)  # would be overdue
    assert (report.reminded, report.escalated) == (0, 0)
    with sessions() as session:
        scope(session, gelato.id)
        request = session.scalars(
            select(RightsRequest).where(RightsRequest.reference == reference)
        ).one()
        service.resume(session, request, actor=Actor.system(), now=RECEIVED + 100 * HOUR)
        session.commit()
    # 10 hours counted before the pause: half the time is reached 26 hours after resuming
    assert run(sessions, gelato, settings, RECEIVED + 125 * HOUR).reminded == 0
    assert run(sessions, gelato, settings, RECEIVED + 127 * HOUR).reminded == 1
    assert to(mail, gelato.staff) and "50%" in text_of(to(mail, gelato.staff)[0])


def test_closed_requests_are_left_alone(
    settings: Settings,
    sessions: sessionmaker[Session],
    gelato: Org,
    mail: RecordingSmtpServer,
    fake: Faker,
) -> None:
    reference = file(sessions, gelato, fake)
    with sessions() as session:
        scope(session, gelato.id)
        request = session.scalars(
            select(RightsRequest).where(RightsRequest.reference == reference)
        ).one()
        service.withdraw(session, request, actor=Actor.system(), now=RECEIVED + HOUR)
        session.commit()
    report = run(sessions, gelato, settings, RECEIVED + 200 * HOUR)
    assert (report.reminded, report.escalated, report.acknowledged) == (0, 0, 0)
    assert to(mail, gelato.staff) == [] and to(mail, gelato.owner) == []
    assert kinds(sessions, gelato, reference)[-1] == "withdrawn"


def test_an_overdue_request_is_escalated_once_to_the_owners_without_a_dpo(
    settings: Settings,
    sessions: sessionmaker[Session],
    gelato: Org,
    mail: RecordingSmtpServer,
    fake: Faker,
) -> None:
    reference = file(sessions, gelato, fake)
    run(sessions, gelato, settings, RECEIVED + 40 * HOUR)
    run(sessions, gelato, settings, RECEIVED + 60 * HOUR)  # both reminders went out
    reminded = {address: len(to(mail, address)) for address in (gelato.owner, gelato.staff)}
    assert reminded == {gelato.owner: 2, gelato.staff: 2}
    report = run(sessions, gelato, settings, RECEIVED + 73 * HOUR)
    assert report.escalated == 1
    assert run(sessions, gelato, settings, RECEIVED + 90 * HOUR).escalated == 0
    [overdue] = to(mail, gelato.owner)[2:]
    assert reference in str(overdue.message["Subject"])
    assert "Terlambat" in str(overdue.message["Subject"])  # staff read Indonesian
    assert "melewati tenggat" in text_of(overdue)
    assert len(to(mail, gelato.staff)) == 2
    request = load(sessions, gelato, reference)
    assert request.escalated_at == RECEIVED + 73 * HOUR
    assert kinds(sessions, gelato, reference)[-1] == "escalated"


def test_the_dpo_of_the_manifest_gets_the_escalation_and_late_reminders_are_not_sent(
    settings: Settings,
    sessions: sessionmaker[Session],
    mail: RecordingSmtpServer,
    fake: Faker,
) -> None:
    mille = members_of(sessions, fake, "millealab")
    reference = file(sessions, mille, fake)
    report = run(sessions, mille, settings, RECEIVED + 24 * 40 * HOUR)  # first sweep: overdue
    assert (report.escalated, report.reminded) == (1, 0)
    [escalation] = to(mail, "dpo@millealab.example")
    assert reference in str(escalation.message["Subject"])
    assert to(mail, mille.staff) == [] and to(mail, mille.owner) == []
    request = load(sessions, mille, reference)
    assert request.reminders_sent == [0.5, 0.8]
    assert kinds(sessions, mille, reference).count("reminded") == 0


def test_the_person_is_acknowledged_once_verified_and_only_once(
    settings: Settings,
    sessions: sessionmaker[Session],
    gelato: Org,
    mail: RecordingSmtpServer,
    fake: Faker,
) -> None:
    unverified = file(sessions, gelato, fake, verified=False)
    reference = file(sessions, gelato, fake)
    assert run(sessions, gelato, settings, RECEIVED + HOUR).acknowledged == 1
    assert run(sessions, gelato, settings, RECEIVED + 2 * HOUR).acknowledged == 0
    [acknowledgement] = mail.received  # to the verified person only
    assert reference in text_of(acknowledgement)
    assert "telah menerima permohonan Anda" in text_of(acknowledgement)
    assert "Pasal 32 ayat (2) UU PDP" in text_of(acknowledgement)
    request = load(sessions, gelato, reference)
    assert request.acknowledged_at == RECEIVED + HOUR
    assert "acknowledged" in kinds(sessions, gelato, reference)
    assert "acknowledged" not in kinds(sessions, gelato, unverified)


def test_requests_never_verified_close_after_the_manifest_s_time_and_the_person_is_told(
    settings: Settings,
    sessions: sessionmaker[Session],
    gelato: Org,
    mail: RecordingSmtpServer,
    fake: Faker,
) -> None:
    person = fake.email()
    reference = file(sessions, gelato, fake, verified=False, value=person)
    # waiting for the person's code: no reminder, no escalation, only the closing
    early = run(sessions, gelato, settings, RECEIVED + 13 * 24 * HOUR)
    assert (early.closed, early.reminded, early.escalated) == (0, 0, 0)
    assert load(sessions, gelato, reference).status == RequestStatus.RECEIVED
    closing = RECEIVED + 14 * 24 * HOUR + timedelta(minutes=1)  # close_unverified_after: 14d
    assert run(sessions, gelato, settings, closing).closed == 1
    assert run(sessions, gelato, settings, closing + HOUR).closed == 0
    request = load(sessions, gelato, reference)
    assert request.status == RequestStatus.CLOSED_UNVERIFIED
    assert request.closed_at == closing
    assert kinds(sessions, gelato, reference)[-2:] == ["closed_unverified", "message_sent"]
    [told] = to(mail, person)
    body = text_of(told)
    assert reference in body
    assert "http://testserver/o/la-gelato-academy/requests/new?right=access&lang=id" in body


@pytest.mark.parametrize("racers", [3])
def test_concurrent_sweeps_send_each_message_once(
    settings: Settings,
    sessions: sessionmaker[Session],
    gelato: Org,
    mail: RecordingSmtpServer,
    fake: Faker,
    racers: int,
) -> None:
    references = [file(sessions, gelato, fake) for _ in range(6)]
    stale = [file(sessions, gelato, fake, verified=False, at=RECEIVED - 15 * 24 * HOUR)]
    start = threading.Barrier(racers)
    reports: list[reminders.SweepReport] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            start.wait()
            reports.append(run(sessions, gelato, settings, RECEIVED + 40 * HOUR))
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
    assert sum(r.acknowledged for r in reports) == len(references)
    assert sum(r.closed for r in reports) == len(stale)
    for reference in references:
        assert kinds(sessions, gelato, reference).count("reminded") == 1
        assert kinds(sessions, gelato, reference).count("acknowledged") == 1
    assert len(to(mail, gelato.staff)) == len(references)
    with sessions() as session:
        scope(session, gelato.id)
        events = session.scalar(
            select(func.count()).select_from(RequestEvent).where(RequestEvent.kind == "reminded")
        )
        messages = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert events == len(references)
    acknowledgements = len(references)
    reminded = 2 * len(references)  # the owner and the staff member
    assert messages == acknowledgements + reminded + len(stale)


def test_a_person_identified_by_whatsapp_gets_approved_templates(
    settings: Settings,
    sessions: sessionmaker[Session],
    gelato: Org,
    fake: Faker,
) -> None:
    """Messages the person did not just ask for go as WhatsApp templates (outside the 24-hour
    window free text is refused): the acknowledgement and the closing notice."""
    numbers = ["0812" + fake.numerify("########") for _ in range(2)]
    filed = {}
    with sessions() as session:
        scope(session, gelato.id)
        organisation = session.get(Organisation, gelato.id)
        assert organisation is not None
        for number, verified in zip(numbers, (True, False), strict=True):
            request = service.file_request(
                session=session,
                organisation=organisation,
                right="erasure",
                identifier="whatsapp",
                value=number,
                language="en",
                received_at=RECEIVED,
            )
            if verified:
                assert request.code is not None
                service.verify_code(session, request.request, request.code, now=RECEIVED)
            filed[verified] = request.request.reference
        session.commit()
    report = run(sessions, gelato, settings, RECEIVED + 15 * 24 * HOUR)
    assert (report.acknowledged, report.closed) == (1, 1)
    with sessions() as session:
        scope(session, gelato.id)
        sent = {
            message.payload["template"]: message
            for message in session.scalars(select(OutboxMessage))
            if message.channel == "whatsapp"
        }
    assert set(sent) == {reminders.ACKNOWLEDGED_TEMPLATE, reminders.CLOSED_TEMPLATE}
    acknowledged = sent[reminders.ACKNOWLEDGED_TEMPLATE]
    assert acknowledged.recipient == "+62" + numbers[0][1:]
    assert acknowledged.payload["language"] == "en"
    assert acknowledged.payload["parameters"][1] == filed[True]
    closed = sent[reminders.CLOSED_TEMPLATE]
    assert closed.recipient == "+62" + numbers[1][1:]
    assert closed.payload["parameters"][1:] == [
        filed[False],
        "http://testserver/o/la-gelato-academy/requests/new?right=erasure&lang=en",
    ]
    assert kinds(sessions, gelato, filed[False])[-2:] == ["closed_unverified", "message_sent"]
