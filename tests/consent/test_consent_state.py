"""The current state answers "may we process this person's data for this purpose now?":
given, withdrawn and given again; refused; never asked; expired on an injected clock; and
no longer valid after a policy change that needs fresh consent (Art. 21(2))."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from consent_helpers import GELATO, MILLEALAB, check, email, event, organisation_id, publish, record
from faker import Faker
from sqlalchemy.orm import Session, sessionmaker

from jagadata.children.models import GuardianVerification
from jagadata.consent.service import ConsentInvalid
from jagadata.consent.state import Reason
from jagadata.consent.withdrawal import expire_due
from jagadata.db import atomic
from jagadata.identities import identity_hash

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GELATO_TEXT = (EXAMPLES / "la-gelato-academy.yaml").read_text(encoding="utf-8")
MARKETING_TEXT_ID = "Saya setuju menerima informasi produk baru, promosi, dan konten edukasi dari"


def _ref(events: list[object]) -> str:
    return events[0].subject_ref  # type: ignore[attr-defined]


def test_given_withdrawn_and_given_again(
    sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    person = email(faker_id)
    ref = _ref(record(sessions_of, GELATO, [event(person)], now=NOW))
    answer = check(sessions_of, GELATO, ref, "marketing", NOW)
    assert (answer.allowed, answer.reason) == (True, Reason.GIVEN)
    assert answer.event is not None and answer.event.sequence == 1

    later = NOW + timedelta(days=3)
    record(sessions_of, GELATO, [event(ref, "withdrawn", channel="whatsapp")], now=later)
    answer = check(sessions_of, GELATO, ref, "marketing", later)
    assert (answer.allowed, answer.reason) == (False, Reason.WITHDRAWN)
    assert answer.event is not None and answer.event.kind == "withdrawn"

    again = later + timedelta(days=30)
    record(sessions_of, GELATO, [event(person)], now=again)
    answer = check(sessions_of, GELATO, ref, "marketing", again)
    assert (answer.allowed, answer.reason) == (True, Reason.GIVEN)
    assert answer.event is not None and answer.event.sequence == 3


def test_refused_and_never_asked(sessions_of: sessionmaker[Session], faker_id: Faker) -> None:
    refuser = _ref(record(sessions_of, GELATO, [event(email(faker_id), "refused")], now=NOW))
    assert check(sessions_of, GELATO, refuser, "marketing", NOW).reason is Reason.REFUSED
    stranger = "anon_" + faker_id.uuid4()
    answer = check(sessions_of, GELATO, stranger, "marketing", NOW)
    assert (answer.allowed, answer.reason, answer.event) == (False, Reason.NEVER_ASKED, None)


def test_a_late_paper_form_does_not_undo_a_later_withdrawal(
    sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    ref = _ref(record(sessions_of, GELATO, [event(email(faker_id), "withdrawn")], now=NOW))
    signed_earlier = event(
        ref, channel="web_form", occurred_at=(NOW - timedelta(days=7)).isoformat()
    )
    record(sessions_of, GELATO, [signed_earlier], now=NOW + timedelta(hours=1))
    assert check(sessions_of, GELATO, ref, "marketing", NOW + timedelta(hours=2)).reason is (
        Reason.WITHDRAWN
    )


def _dashboard(guardian: dict[str, str], pupil: str, kind: str = "given") -> dict[str, object]:
    return event(pupil, kind, purpose="assessment_dashboard", child=True, guardian=guardian)


def _verified(sessions_of: sessionmaker[Session], pupil: str, guardian: dict[str, str]) -> None:
    """The guardian proved who they are for this pupil, as the children's flow records it."""
    with sessions_of() as session, atomic(session):
        org = organisation_id(sessions_of, MILLEALAB)
        session.add(
            GuardianVerification(
                organisation_id=org,
                public_id=secrets.token_hex(16),
                child_ref=pupil,
                guardian_ref=identity_hash(guardian["kind"], guardian["value"]),
                contact_kind=guardian["kind"],
                contact=guardian["value"],
                purposes=["assessment_dashboard"],
                manifest_version=1,
                language="id",
                origin="api",
                channel="web_form",
                code_hash="0" * 64,
                attempts=1,
                created_at=NOW,
                expires_at=NOW + timedelta(minutes=30),
                verified_at=NOW,
            )
        )


def test_consent_expires_after_renew_after_and_can_be_renewed(
    sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    pupil = "anon_" + faker_id.uuid4()
    guardian = email(faker_id)
    _verified(sessions_of, pupil, guardian)
    given = record(sessions_of, MILLEALAB, [_dashboard(guardian, pupil)], now=NOW)
    assert given[0].expires_at == datetime(2027, 11, 23, 9, 0, tzinfo=UTC)  # renew_after: 12m
    before = NOW + timedelta(days=360)
    assert check(sessions_of, MILLEALAB, pupil, "assessment_dashboard", before).allowed
    after = NOW + timedelta(days=370)
    answer = check(sessions_of, MILLEALAB, pupil, "assessment_dashboard", after)
    assert (answer.allowed, answer.reason) == (False, Reason.EXPIRED)

    with sessions_of() as session, atomic(session):
        expired = expire_due(
            session=session, organisation_id=organisation_id(sessions_of, MILLEALAB), now=after
        )
    assert expired == 1
    answer = check(sessions_of, MILLEALAB, pupil, "assessment_dashboard", after)
    assert answer.reason is Reason.EXPIRED and answer.event is not None
    assert answer.event.kind == "expired"

    record(sessions_of, MILLEALAB, [_dashboard(guardian, pupil, "renewed")], now=after)
    assert check(sessions_of, MILLEALAB, pupil, "assessment_dashboard", after).allowed


def test_renewing_needs_a_consent_to_renew(
    sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    with pytest.raises(ConsentInvalid) as invalid:
        record(sessions_of, GELATO, [event(email(faker_id), "renewed")], now=NOW)
    assert [e.field for e in invalid.value.errors] == ["events[0].kind"]


def test_a_childs_consent_needs_a_guardian(
    sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    pupil = "anon_" + faker_id.uuid4()
    with pytest.raises(ConsentInvalid) as invalid:
        record(sessions_of, MILLEALAB, [event(pupil, purpose="assessment_dashboard", child=True)])
    assert [e.field for e in invalid.value.errors] == ["events[0].guardian"]
    with pytest.raises(ConsentInvalid):
        record(sessions_of, MILLEALAB, [_dashboard({"kind": "email", "value": "x"}, pupil)])
    guardian = email(faker_id)
    with pytest.raises(ConsentInvalid) as unverified:
        record(sessions_of, MILLEALAB, [_dashboard(guardian, pupil)])
    assert "not been verified" in unverified.value.errors[0].message
    _verified(sessions_of, pupil, guardian)
    recorded = record(sessions_of, MILLEALAB, [_dashboard(guardian, pupil)])
    assert recorded[0].child and recorded[0].guardian_ref
    assert recorded[0].guardian_ref == identity_hash(guardian["kind"], guardian["value"])


WEBSITE = "  website: https://lagelatoacademy.com\n"
REWORDED = "konten edukasi melalui email atau WhatsApp."


@pytest.mark.parametrize(
    ("old", "new", "still_valid"),
    [
        (MARKETING_TEXT_ID, "Saya bersedia menerima kabar produk baru dan promosi dari", False),
        (
            "    recipients: [whatsapp, email_provider]\n    consent:",
            "    recipients: [whatsapp, email_provider, hostinger]\n    consent:",
            False,
        ),
        (WEBSITE, WEBSITE + '  phone: "+62 274 000 0000"\n', True),
        (REWORDED, REWORDED.replace("atau", "maupun"), True),
    ],
    ids=["consent text", "new recipient", "contact detail", "purpose reworded"],
)
def test_a_material_change_needs_fresh_consent(
    sessions_of: sessionmaker[Session], faker_id: Faker, old: str, new: str, still_valid: bool
) -> None:
    person = email(faker_id)
    ref = _ref(record(sessions_of, GELATO, [event(person)], now=NOW))
    changed = GELATO_TEXT.replace(old, new, 1)
    assert changed != GELATO_TEXT
    assert publish(sessions_of, changed) == 2
    answer = check(sessions_of, GELATO, ref, "marketing", NOW)
    assert answer.manifest_version == 2
    assert answer.allowed is still_valid
    if not still_valid:
        assert answer.reason is Reason.RECONSENT_REQUIRED and answer.valid_from_version == 2
        record(sessions_of, GELATO, [event(person)], now=NOW)
        renewed = check(sessions_of, GELATO, ref, "marketing", NOW)
        assert renewed.allowed and renewed.event is not None
        assert renewed.event.manifest_version == 2
    else:
        assert answer.valid_from_version == 1


def test_an_announced_version_applies_from_its_effective_date(
    sessions_of: sessionmaker[Session], faker_id: Faker
) -> None:
    early, late = email(faker_id), email(faker_id)
    early_ref = _ref(record(sessions_of, GELATO, [event(early)], now=NOW))
    changed = GELATO_TEXT.replace(MARKETING_TEXT_ID, "Saya bersedia menerima kabar dari").replace(
        "  effective: 2026-04-28", "  effective: 2026-12-15"
    )
    assert publish(sessions_of, changed) == 2
    assert check(sessions_of, GELATO, early_ref, "marketing", NOW).allowed  # v1 still in force
    late_ref = _ref(record(sessions_of, GELATO, [event(late, manifest_version=2)], now=NOW))
    with pytest.raises(ConsentInvalid):
        record(sessions_of, GELATO, [event(late, manifest_version=3)], now=NOW)
    in_force = datetime.combine(date(2026, 12, 15), datetime.min.time(), UTC)
    assert check(sessions_of, GELATO, early_ref, "marketing", in_force).reason is (
        Reason.RECONSENT_REQUIRED
    )
    assert check(sessions_of, GELATO, late_ref, "marketing", in_force).allowed
    with pytest.raises(ConsentInvalid) as invalid:
        record(sessions_of, GELATO, [event(early, manifest_version=1)], now=in_force)
    assert invalid.value.errors[0].field == "events[0].manifest_version"
