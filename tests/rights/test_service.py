"""A request's life on a real database (SQLite and PostgreSQL): filed at receipt with its
72-hour deadline, verified by code or link with limited attempts, moved only through the
workflow, refused only on a lawful ground, paused with a reason, approved by a second person,
closed unverified with its record kept, and a timeline that proves itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from faker import Faker
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from jagadata.audit.models import AuditEntry
from jagadata.audit.service import Actor
from jagadata.config import Settings
from jagadata.db import session_factory
from jagadata.db.tenancy import scope
from jagadata.orgs.models import Organisation
from jagadata.rights import service
from jagadata.rights.models import RequestEvent, RightsRequest
from jagadata.rights.service import CodeRefused, RequestProblem
from jagadata.rights.states import ClockStart, OnBehalf, PauseReason, RequestStatus
from jagadata.rights.workflow import TransitionRefused

RECEIVED = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)  # Thursday 23:30 WIB
STAFF = Actor.user(1, "staff")
DPO = Actor.user(2, "dpo")


@pytest.fixture
def db(settings: Settings, migrated_engine: Engine) -> Iterator[Session]:
    """A session acting for La Gelato Academy, as the privacy centre's routes use."""
    with session_factory(migrated_engine)() as session:
        gelato = session.scalars(
            select(Organisation.id).where(Organisation.slug == "la-gelato-academy")
        ).one()
        scope(session, gelato)
        yield session


@pytest.fixture
def fake() -> Faker:
    fake = Faker("id_ID")
    fake.seed_instance(14)
    return fake


def org(db: Session, slug: str = "la-gelato-academy") -> Organisation:
    return db.scalars(select(Organisation).where(Organisation.slug == slug)).one()


def file_access(db: Session, fake: Faker, **kwargs: object) -> service.Filed:
    filed = service.file_request(
        session=db,
        organisation=org(db),
        right=kwargs.pop("right", "access"),  # type: ignore[arg-type]
        identifier="email",
        value=fake.email(),
        language="id",
        received_at=RECEIVED,
        **kwargs,  # type: ignore[arg-type]
    )
    db.commit()
    return filed


def test_a_request_is_recorded_at_receipt_with_the_law_s_72_hours(db: Session, fake: Faker) -> None:
    filed = file_access(db, fake)
    request = filed.request
    assert request.status == RequestStatus.RECEIVED
    assert request.reference.startswith("R-") and len(request.reference) == 10
    assert request.due_at == RECEIVED + timedelta(hours=72)
    assert request.deadline["source"] == "law"
    assert "32(2)" in request.deadline["articles"]
    assert request.acknowledge_due_at == RECEIVED + timedelta(hours=72)
    assert filed.code is not None and len(filed.code) == 6 and filed.code.isdigit()
    # the contact is encrypted at rest; the person is found by a keyed hash
    raw = db.execute(
        text("SELECT contact, subject_ref FROM rights_request WHERE id = :id"), {"id": request.id}
    ).one()
    assert "@" not in raw.contact and raw.contact.startswith("jd1:")
    assert len(raw.subject_ref) == 64
    systems = [task.system for task in service.tasks_of(db, request)]
    assert systems[:3] == ["whatsapp_business", "gmail", "wordpress"]
    assert service.verify_timeline(db, request) is None
    audit = db.scalars(select(AuditEntry).where(AuditEntry.target_id == request.reference)).all()
    assert [entry.action for entry in audit] == ["rights.request.received"]


def test_the_right_code_verifies_and_the_waiting_time_is_shown(db: Session, fake: Faker) -> None:
    filed = file_access(db, fake)
    assert filed.code is not None
    later = RECEIVED + timedelta(minutes=20)
    service.verify_code(db, filed.request, filed.code, now=later)
    db.commit()
    assert filed.request.status == RequestStatus.VERIFIED
    assert filed.request.verified_at == later
    verified = service.timeline(db, filed.request)[-1]
    assert verified.kind == "verified"
    assert verified.data["waited_seconds"] == 20 * 60
    # the clock still counts from receipt, as the law does
    assert filed.request.due_at == RECEIVED + timedelta(hours=72)


def test_wrong_codes_lock_after_five_attempts_and_expired_codes_fail(
    db: Session, fake: Faker
) -> None:
    filed = file_access(db, fake)
    assert filed.code is not None
    wrong = f"{(int(filed.code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(CodeRefused) as refused:
            service.verify_code(db, filed.request, wrong, now=RECEIVED)
        assert refused.value.attempts_left == left
    with pytest.raises(CodeRefused, match="locked"):
        service.verify_code(db, filed.request, wrong, now=RECEIVED)
    with pytest.raises(CodeRefused, match="locked"):
        service.verify_code(db, filed.request, filed.code, now=RECEIVED)  # even the right one
    db.commit()
    assert filed.request.status == RequestStatus.RECEIVED
    code, _link = service.issue_code(db, filed.request, now=RECEIVED + timedelta(minutes=1))
    with pytest.raises(CodeRefused, match="expired"):
        service.verify_code(db, filed.request, code, now=RECEIVED + timedelta(hours=1))


def test_a_new_code_replaces_the_old_and_a_link_works_once(db: Session, fake: Faker) -> None:
    filed = file_access(db, fake)
    assert filed.code is not None and filed.link_token is not None
    code2, link2 = service.issue_code(db, filed.request, now=RECEIVED)
    assert service.verify_link(db, filed.link_token, now=RECEIVED) is None  # replaced
    assert service.verify_link(db, link2, now=RECEIVED) is filed.request
    assert service.verify_link(db, link2, now=RECEIVED) is None  # used
    assert filed.request.verification_method == "link"
    with pytest.raises(CodeRefused):
        service.verify_code(db, filed.request, code2, now=RECEIVED)


def test_the_clock_may_start_at_verification_only_with_a_reason(db: Session, fake: Faker) -> None:
    filed = file_access(db, fake)
    with pytest.raises(RequestProblem, match="why"):
        service.set_clock_start(db, filed.request, ClockStart.VERIFICATION, actor=DPO, reason=" ")
    service.set_clock_start(
        db, filed.request, ClockStart.VERIFICATION, actor=DPO, reason="policy of the board"
    )
    assert filed.code is not None
    verified_at = RECEIVED + timedelta(minutes=29)
    service.verify_code(db, filed.request, filed.code, now=verified_at)
    assert filed.request.due_at == verified_at + timedelta(hours=72)
    kinds = [event.kind for event in service.timeline(db, filed.request)]
    assert "clock_start_changed" in kinds


def test_a_refusal_needs_a_lawful_ground_an_explanation_and_for_exceptions_the_law(
    db: Session, fake: Faker
) -> None:
    filed = file_access(db, fake)
    service.verify_manually(db, filed.request, actor=STAFF, reason="known WhatsApp number")
    with pytest.raises(RequestProblem, match="grounds"):
        service.refuse(db, filed.request, actor=STAFF, ground="", explanation="no")
    with pytest.raises(RequestProblem, match="grounds"):
        service.refuse(db, filed.request, actor=STAFF, ground="41(2)(c)", explanation="contract")
    with pytest.raises(RequestProblem, match="explain"):
        service.refuse(db, filed.request, actor=STAFF, ground="33(b)", explanation="  ")
    with pytest.raises(RequestProblem, match="law or regulation"):
        service.refuse(db, filed.request, actor=STAFF, ground="50(1)(b)", explanation="police")
    assert filed.request.status == RequestStatus.VERIFIED
    service.refuse(
        db,
        filed.request,
        actor=STAFF,
        ground="33(b)",
        explanation="the chat export names other students",
    )
    db.commit()
    assert filed.request.status == RequestStatus.REFUSED
    assert filed.request.refusal_ground == "33(b)"
    last = service.timeline(db, filed.request)[-1]
    assert last.kind == "refused" and last.data["ground"] == "33(b)" and last.data["on_time"]


def test_fulfilment_waits_for_every_task_and_records_lateness(db: Session, fake: Faker) -> None:
    filed = file_access(db, fake)
    request = filed.request
    with pytest.raises(TransitionRefused):
        service.fulfil(db, request, actor=STAFF, outcome={})
    service.verify_manually(db, request, actor=STAFF, reason="seen in person")
    service.start(db, request, actor=STAFF)
    with pytest.raises(RequestProblem, match="tick every task"):
        service.fulfil(db, request, actor=STAFF, outcome={"done": "export sent"})
    late = RECEIVED + timedelta(hours=80)
    for task in service.tasks_of(db, request):
        service.complete_task(db, request, task.id, actor=STAFF, user_id=None, note="ok", now=late)
    service.fulfil(db, request, actor=STAFF, outcome={"done": "export sent"}, now=late)
    db.commit()
    assert request.status == RequestStatus.FULFILLED
    assert service.timeline(db, request)[-1].data["on_time"] is False
    assert service.verify_timeline(db, request) is None


def test_a_pause_needs_a_reason_and_moves_the_deadline(db: Session, fake: Faker) -> None:
    filed = file_access(db, fake, right="rectification", details={"name": "corrected"})
    request = filed.request
    service.pause(
        db,
        request,
        actor=STAFF,
        reason=PauseReason.AWAITING_INFORMATION,
        now=RECEIVED + timedelta(hours=1),
    )
    assert request.due_at is None
    with pytest.raises(RequestProblem, match="already"):
        service.pause(db, request, actor=STAFF, reason=PauseReason.AWAITING_INFORMATION)
    service.resume(db, request, actor=STAFF, now=RECEIVED + timedelta(hours=25))
    db.commit()
    assert request.due_at == RECEIVED + timedelta(hours=72 + 24)
    kinds = [event.kind for event in service.timeline(db, request)]
    assert kinds[-2:] == ["paused", "resumed"]


def test_a_second_person_approves_where_the_right_requires_it(db: Session, fake: Faker) -> None:
    filed = file_access(db, fake, right="erasure")
    request = filed.request
    request.approval_required = True
    service.verify_manually(db, request, actor=STAFF, reason="seen in person")
    service.start(db, request, actor=STAFF)
    for task in service.tasks_of(db, request):
        service.complete_task(db, request, task.id, actor=STAFF, user_id=None, note=None)
    service.fulfil(db, request, actor=STAFF, outcome={"erased": ["gmail"], "kept": ["invoices"]})
    assert request.status == RequestStatus.AWAITING_APPROVAL
    with pytest.raises(RequestProblem, match="another person"):
        service.approve(db, request, actor=STAFF)
    service.approve(db, request, actor=DPO)
    db.commit()
    assert request.status == RequestStatus.FULFILLED
    assert request.closed_at is not None


def test_requests_never_verified_are_closed_with_their_record(db: Session, fake: Faker) -> None:
    old = file_access(db, fake).request
    service.close_unverified(
        db, old.organisation_id, older_than=timedelta(days=14), now=RECEIVED + timedelta(days=1)
    )
    assert old.status == RequestStatus.RECEIVED
    closed = service.close_unverified(
        db, old.organisation_id, older_than=timedelta(days=14), now=RECEIVED + timedelta(days=15)
    )
    db.commit()
    assert closed == [old]
    assert old.status == RequestStatus.CLOSED_UNVERIFIED
    assert db.get(RightsRequest, old.id) is not None
    assert service.timeline(db, old)[-1].kind == "closed_unverified"


def test_bad_requests_are_refused_with_the_field_to_fix(db: Session, fake: Faker) -> None:
    organisation = org(db)
    cases = [
        ({"right": "telepathy", "identifier": "email", "value": fake.email()}, "right"),
        ({"right": "compensation", "identifier": "email", "value": fake.email()}, "right"),
        ({"right": "access", "identifier": "nik", "value": "1"}, "identifier"),
        ({"right": "access", "identifier": "email", "value": "not an address"}, "value"),
        (
            {
                "right": "access",
                "identifier": "email",
                "value": fake.email(),
                "on_behalf": OnBehalf.PARENT,
            },
            "authority",
        ),
    ]
    for kwargs, field in cases:
        with pytest.raises(RequestProblem) as problem:
            service.file_request(session=db, organisation=organisation, **kwargs)  # type: ignore[arg-type]
        assert problem.value.field == field
    db.rollback()
    assert db.scalars(select(RightsRequest)).all() == []


def test_the_timeline_cannot_be_edited_and_an_edit_is_detected(
    db: Session, fake: Faker, database_url: str
) -> None:
    filed = file_access(db, fake)
    event_id = service.timeline(db, filed.request)[0].id
    with pytest.raises(DBAPIError), db.begin_nested():
        db.execute(
            text("UPDATE rights_request_event SET kind = 'note' WHERE id = :id"),
            {"id": event_id},
        )
    db.rollback()
    drop = (
        "DROP TRIGGER rights_request_event_no_update"
        if database_url.startswith("sqlite")
        else "DROP TRIGGER rights_request_event_append_only ON rights_request_event"
    )
    db.execute(text(drop))
    db.execute(
        text("UPDATE rights_request_event SET status_after = 'fulfilled' WHERE id = :id"),
        {"id": event_id},
    )
    db.commit()
    db.expire_all()
    request = db.get(RightsRequest, filed.request.id)
    assert request is not None
    assert service.verify_timeline(db, request) == 1
    with pytest.raises(PermissionError):
        event = db.get(RequestEvent, event_id)
        assert event is not None
        event.kind = "note"
        db.flush()


def test_the_manifest_sets_zone_approval_and_a_clock_from_verification(
    settings: Settings, migrated_engine: Engine, fake: Faker
) -> None:
    from pathlib import Path

    from jagadata.manifest import load_manifest_text
    from jagadata.orgs.service import add_organisation

    text_ = (Path(__file__).resolve().parents[2] / "examples" / "la-gelato-academy.yaml").read_text(
        encoding="utf-8"
    )
    text_ = text_.replace("slug: la-gelato-academy", "slug: gelato-makassar", 1)
    text_ = text_.replace(
        "    calendar: clock\n",
        "    calendar: clock\n"
        "  approval_required: [erasure]\n"
        "  clock_start: verification\n"
        "  clock_start_reason: Permintaan palsu lewat WhatsApp sering masuk\n",
        1,
    )
    text_ = text_.replace("  legal_form:", "  timezone: WITA\n  legal_form:", 1)
    db = session_factory(migrated_engine)()
    organisation = add_organisation(
        session=db, loaded=load_manifest_text(text_, file="gelato-makassar.yaml")
    ).organisation
    db.commit()
    scope(db, organisation.id)
    filed = service.file_request(
        session=db,
        organisation=organisation,
        right="erasure",
        identifier="email",
        value=fake.email(),
        received_at=RECEIVED,
    )
    request = filed.request
    assert request.zone == "Asia/Makassar"
    assert request.approval_required
    assert request.clock_start == "verification"
    assert request.due_at is None  # the clock waits for verification
    assert filed.code is not None
    service.verify_code(db, request, filed.code, now=RECEIVED + timedelta(minutes=10))
    assert request.due_at == RECEIVED + timedelta(minutes=10) + timedelta(days=30)
    db.close()


def test_a_clock_from_verification_without_a_reason_is_refused_in_the_manifest() -> None:
    from pathlib import Path

    from jagadata.manifest import ManifestInvalid, load_manifest_text

    text_ = (Path(__file__).resolve().parents[2] / "examples" / "la-gelato-academy.yaml").read_text(
        encoding="utf-8"
    )
    text_ = text_.replace(
        "    calendar: clock\n", "    calendar: clock\n  clock_start: verification\n"
    )
    with pytest.raises(ManifestInvalid) as error:
        load_manifest_text(text_, file="x.yaml")
    assert "clock_start_reason" in str(error.value)
    with pytest.raises(ManifestInvalid) as indonesian:
        load_manifest_text(text_, file="x.yaml", lang="id")
    assert "Pasal 30 ayat (1)" in str(indonesian.value)
