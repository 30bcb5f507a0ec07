"""May we process this person's data for this purpose now? One indexed lookup answers.

The answer honours withdrawal (Art. 9, 40: processing stops), refusal, expiry (`renew_after`),
and policy changes that need fresh consent (Art. 21(2)): a consent given under a version older
than the in-force version's `renewal_from` no longer counts. It says why, and names the ledger
event it rests on, so the answer itself can be proven (Art. 24).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import BindParameter, Connection, Select, and_, bindparam, func, select, tuple_
from sqlalchemy.orm import Session

from jagadata.consent.models import ConsentEvent, ConsentState, ConsentTerms, Status
from jagadata.consent.terms import PurposeTerms, terms_of, version_in_force
from jagadata.db.base import utcnow
from jagadata.db.tenancy import acting_for, ensure_reachable
from jagadata.orgs.models import ManifestVersion
from jagadata.orgs.service import today_in_indonesia


class Reason(StrEnum):
    GIVEN = "given"
    WITHDRAWN = "withdrawn"
    REFUSED = "refused"
    EXPIRED = "expired"
    RECONSENT_REQUIRED = "reconsent_required"
    NEVER_ASKED = "never_asked"


class NotAConsentPurpose(LookupError):
    """The purpose is absent from the version in force, or rests on another legal basis."""

    def __init__(self, purpose: str, version: int, exists: bool) -> None:
        super().__init__(purpose)
        self.purpose, self.version, self.exists = purpose, version, exists


@dataclass(frozen=True)
class StateEvent:
    sequence: int
    kind: str
    occurred_at: datetime
    manifest_version: int
    hash: str


@dataclass(frozen=True)
class Answer:
    subject_ref: str
    purpose: str
    allowed: bool
    reason: Reason
    event: StateEvent | None
    expires_at: datetime | None
    manifest_version: int
    valid_from_version: int


_STATE_COLUMNS = (
    ConsentState.status,
    ConsentState.sequence,
    ConsentState.event_kind,
    ConsentState.event_hash,
    ConsentState.manifest_version,
    ConsentState.occurred_at,
    ConsentState.expires_at,
)


def _check_statement() -> Select[Any]:
    """One round trip: the terms of the purpose in the version in force, joined with the
    person's state by primary key. Built on the tables (Core) and run on the session's
    connection, so the tenancy guard does not rebuild it per call: every table in it is
    filtered by `:organisation` explicitly, and `check` first makes sure the session may
    read that organisation."""
    terms, state, versions = (
        ConsentTerms.__table__.c,
        ConsentState.__table__.c,
        ManifestVersion.__table__.c,
    )
    organisation: BindParameter[int] = bindparam("organisation")
    in_force = (
        select(func.max(versions.number))
        .where(versions.organisation_id == organisation, versions.effective <= bindparam("today"))
        .scalar_subquery()
    )
    return (
        select(terms.version, terms.consent, terms.renewal_from, state.status, state.sequence,
               state.event_kind, state.event_hash, state.manifest_version, state.occurred_at,
               state.expires_at)
        .select_from(ConsentTerms.__table__)
        .outerjoin(ConsentState.__table__, and_(
            state.organisation_id == organisation,
            state.subject_ref == bindparam("subject"),
            state.purpose == terms.purpose,
        ))
        .where(terms.organisation_id == organisation, terms.purpose == bindparam("purpose"),
               terms.version == in_force)
    )  # fmt: skip


_CHECK: Final = _check_statement()


def check(
    *,
    session: Session,
    organisation_id: int,
    subject_ref: str,
    purpose: str,
    now: datetime | None = None,
) -> Answer:
    """Whether `purpose` may be pursued for the person now, and why; raise NotAConsentPurpose."""
    now = now or utcnow()
    ensure_reachable(session, organisation_id)
    answer = check_on(
        session.connection(),
        organisation_id=organisation_id,
        subject_ref=subject_ref,
        purpose=purpose,
        now=now,
    )
    if answer is None:
        return check_many(
            session=session,
            organisation_id=organisation_id,
            pairs=[(subject_ref, purpose)],
            now=now,
        )[0]
    return answer


def check_on(
    connection: Connection, *, organisation_id: int, subject_ref: str, purpose: str, now: datetime
) -> Answer | None:
    """`check` in one statement on a bare connection, for a caller that has already proven it
    acts for `organisation_id` (the consent API's check, with the key's organisation): every
    table in the statement is filtered by it. None when the purpose is not in the version in
    force (or there is none): `check` then explains why; raise NotAConsentPurpose."""
    row = connection.execute(
        _CHECK,
        {
            "organisation": organisation_id,
            "subject": subject_ref,
            "purpose": purpose,
            "today": today_in_indonesia(now),
        },
    ).one_or_none()
    if row is None:
        return None
    if not row.consent:
        raise NotAConsentPurpose(purpose, row.version, exists=True)
    return _answer(subject_ref, purpose, row.version, row.renewal_from, row, now)


def check_many(
    *,
    session: Session,
    organisation_id: int,
    pairs: Sequence[tuple[str, str]],
    now: datetime | None = None,
) -> list[Answer]:
    """Answers for many (subject_ref, purpose) pairs, in order, in a few queries."""
    now = now or utcnow()
    version = _version(session, organisation_id, today_in_indonesia(now))
    terms = terms_of(session=session, organisation_id=organisation_id, versions={version})
    for _, purpose in pairs:
        found = terms.get((version, purpose))
        if found is None or not found.consent:
            raise NotAConsentPurpose(purpose, version, exists=found is not None)
    states = _states(session, organisation_id, {pair for pair in pairs})
    return [
        _answer(
            subject,
            purpose,
            version,
            terms[(version, purpose)].renewal_from,
            states.get((subject, purpose)),
            now,
        )
        for subject, purpose in pairs
    ]


def _version(session: Session, organisation_id: int, today: date) -> int:
    version = version_in_force(session=session, organisation_id=organisation_id, today=today)
    if version is None:
        raise LookupError(f"organisation {organisation_id} has no manifest")
    return version


def _states(
    session: Session, organisation_id: int, pairs: set[tuple[str, str]]
) -> dict[tuple[str, str], Any]:
    ordered = sorted(pairs)
    found: dict[tuple[str, str], Any] = {}
    with acting_for(session, organisation_id):
        for start in range(0, len(ordered), 400):
            rows = session.execute(
                select(ConsentState.subject_ref, ConsentState.purpose, *_STATE_COLUMNS).where(
                    ConsentState.organisation_id == organisation_id,
                    tuple_(ConsentState.subject_ref, ConsentState.purpose).in_(
                        ordered[start : start + 400]
                    ),
                )
            )
            found.update({(row.subject_ref, row.purpose): row for row in rows})
    return found


def _answer(
    subject_ref: str, purpose: str, version: int, renewal_from: int, state: Any, now: datetime
) -> Answer:
    if state is None or state.status is None:
        return Answer(
            subject_ref, purpose, False, Reason.NEVER_ASKED, None, None, version, renewal_from
        )
    event = StateEvent(
        state.sequence,
        state.event_kind,
        state.occurred_at,
        state.manifest_version,
        state.event_hash,
    )
    status = Status(state.status)
    if status is Status.GIVEN:
        if state.manifest_version < renewal_from:
            reason = Reason.RECONSENT_REQUIRED
        elif state.expires_at is not None and state.expires_at <= now:
            reason = Reason.EXPIRED
        else:
            reason = Reason.GIVEN
    else:
        reason = Reason(status.value)
    return Answer(
        subject_ref,
        purpose,
        reason is Reason.GIVEN,
        reason,
        event,
        state.expires_at,
        version,
        renewal_from,
    )


def history(
    *, session: Session, organisation_id: int, subject_ref: str, limit: int = 10_000
) -> list[ConsentEvent]:
    """Every event of a person (as subject), oldest first."""
    with acting_for(session, organisation_id):
        return list(
            session.scalars(
                select(ConsentEvent)
                .where(
                    ConsentEvent.organisation_id == organisation_id,
                    ConsentEvent.subject_ref == subject_ref,
                )
                .order_by(ConsentEvent.sequence)
                .limit(limit)
            )
        )


def consent_purposes(
    *, session: Session, organisation_id: int, now: datetime | None = None
) -> tuple[int, list[PurposeTerms]]:
    """The version in force and the terms of its consent-based purposes."""
    version = _version(session, organisation_id, today_in_indonesia(now or utcnow()))
    terms = terms_of(session=session, organisation_id=organisation_id, versions={version})
    return version, [t for (v, _), t in terms.items() if v == version and t.consent]


def given_purposes(*, session: Session, organisation_id: int, subject_ref: str) -> list[str]:
    """Purposes the person's state says they consented to (to withdraw them all)."""
    with acting_for(session, organisation_id):
        return list(
            session.scalars(
                select(ConsentState.purpose)
                .where(
                    ConsentState.organisation_id == organisation_id,
                    ConsentState.subject_ref == subject_ref,
                    ConsentState.status == Status.GIVEN.value,
                )
                .order_by(ConsentState.purpose)
            )
        )
