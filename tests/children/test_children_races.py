"""Two requests at once with the same verification: each guess costs an attempt (a stale copy
of the row cannot reuse one), and a decision is recorded once, whatever arrives second."""

from __future__ import annotations

from datetime import datetime

import pytest
from accounts_helpers import Clock
from children_helpers import code_in, events, org_id
from faker import Faker
from fastapi.testclient import TestClient
from notify_servers import RecordingSmtpServer
from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.service import Actor
from jagadata.children import service
from jagadata.children.models import GuardianVerification, Origin
from jagadata.db import atomic
from jagadata.orgs.service import get_organisation

MILLEALAB = "millealab"
PURPOSE = "assessment_dashboard"


def _started(sessions_of: sessionmaker[Session], now: datetime, guardian: str) -> str:
    with sessions_of() as session, atomic(session):
        organisation = get_organisation(session=session, slug=MILLEALAB)
        assert organisation is not None
        started = service.start_verification(
            session=session,
            organisation=organisation,
            child_ref=service.new_child_ref(),
            purposes=[PURPOSE],
            contact_kind="email",
            contact=guardian,
            lang="id",
            base_url="http://testserver",
            origin=Origin.WEB,
            actor=Actor.system("test"),
            now=now,
        )
        return started.verification.public_id


def _load(session: Session, public_id: str) -> GuardianVerification:
    organisation_id = org_id_of(session)
    found = service.find_verification(
        session=session, organisation_id=organisation_id, public_id=public_id
    )
    assert found is not None
    return found


def org_id_of(session: Session) -> int:
    organisation = get_organisation(session=session, slug=MILLEALAB)
    assert organisation is not None
    return organisation.id


def test_a_stale_copy_cannot_spend_an_attempt_twice(
    web: TestClient,
    sessions_of: sessionmaker[Session],
    smtp_server: RecordingSmtpServer,
    clock: Clock,
    faker_id: Faker,
) -> None:
    public_id = _started(sessions_of, clock.now, faker_id.free_email())
    code = code_in(smtp_server.received[0])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    with sessions_of() as first, sessions_of() as second:
        one, two = _load(first, public_id), _load(second, public_id)
        second.commit()  # the second request read the row, then waits
        with atomic(first):
            assert (
                service.check_code(
                    session=first, verification=one, code=wrong, now=clock.now
                ).outcome
                is service.Outcome.WRONG
            )
        with atomic(second):
            late = service.check_code(session=second, verification=two, code=code, now=clock.now)
        assert late.outcome is service.Outcome.WRONG  # its read was stale: not counted as right
    with sessions_of() as session:
        assert _load(session, public_id).attempts == 1
        assert _load(session, public_id).verified_at is None


def test_a_decision_is_recorded_once_even_from_two_requests(
    web: TestClient,
    sessions_of: sessionmaker[Session],
    smtp_server: RecordingSmtpServer,
    clock: Clock,
    faker_id: Faker,
) -> None:
    public_id = _started(sessions_of, clock.now, faker_id.free_email())
    code = code_in(smtp_server.received[0])
    with sessions_of() as session, atomic(session):
        verification = _load(session, public_id)
        assert (
            service.check_code(
                session=session, verification=verification, code=code, now=clock.now
            ).outcome
            is service.Outcome.VERIFIED
        )
    with sessions_of() as first, sessions_of() as second:
        one, two = _load(first, public_id), _load(second, public_id)
        second.commit()
        organisation = get_organisation(session=first, slug=MILLEALAB)
        assert organisation is not None
        with atomic(first):
            service.record_decisions(
                session=first,
                organisation=organisation,
                verification=one,
                decisions={PURPOSE: True},
                lang="id",
                base_url="http://testserver",
                now=clock.now,
            )
        with pytest.raises(service.GuardianProblem), atomic(second):
            service.record_decisions(
                session=second,
                organisation=organisation,
                verification=two,
                decisions={PURPOSE: False},
                lang="id",
                base_url="http://testserver",
                now=clock.now,
            )
    assert [e.kind for e in events(sessions_of, org_id(sessions_of, MILLEALAB))] == [
        "given",
        "given",
    ]
