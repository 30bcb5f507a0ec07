"""Checking a batch of consent events against the manifest before anything is recorded.

An event must name a consent-based purpose (Art. 20(2)(a)) of the version in force or of an
announced newer one, in a language its consent text exists in (Art. 21-22, Bahasa Indonesia
first), through a channel the manifest collects it by, with evidence (a paper form's scan,
Art. 24), and for a child a parent's or guardian's reference (Art. 25). Every problem is
reported with its place, `events[3].purpose`, and nothing is recorded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as default
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from jagadata.children.verified import guardian_verified
from jagadata.consent.evidence import stored_evidence
from jagadata.consent.models import Channel, EventKind
from jagadata.consent.schemas import EventIn, Identity
from jagadata.consent.terms import PurposeTerms, terms_of, version_in_force
from jagadata.crypto import Keyring, get_keyring
from jagadata.i18n import N_
from jagadata.identities import InvalidIdentity, identity_hash, normalise_identity
from jagadata.logs import personal_data_kind
from jagadata.manifest.types import Duration
from jagadata.orgs.service import today_in_indonesia

CLOCK_SKEW: Final = timedelta(minutes=5)
"""An event may say it happened this far in the future (clocks differ), not further."""
RECEIPT_KINDS: Final = frozenset({EventKind.GIVEN, EventKind.RENEWED})
COLLECTED_KINDS: Final = frozenset({EventKind.GIVEN, EventKind.RENEWED, EventKind.REFUSED})
PERSONAL_KEY: Final = N_("An idempotency key must not contain personal data.")


@dataclass(frozen=True)
class FieldError:
    """A problem with one field: `message` is an English msgid formatted with `values`."""

    field: str
    message: str
    values: Mapping[str, Any] = default(default_factory=dict)


class ConsentInvalid(Exception):
    """Nothing was recorded: every problem found, each with its place."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass
class Draft:
    """An event that passed every check: its ledger row (not yet chained) and a contact to keep."""

    index: int
    row: dict[str, Any]
    contact: tuple[str, str] | None = None


@dataclass
class Prepared:
    drafts: list[Draft]
    fingerprint: str


def subject_reference(identity: Identity, keyring: Keyring | None = None) -> str:
    """The keyed hash the ledger names a person by (`identity_hash`); raise InvalidIdentity for
    a bad value. A batch passes the keyring it fetched once."""
    if keyring is None:
        return identity_hash(identity.kind, identity.value)
    return keyring.lookup_hash(
        identity.kind.value, normalise_identity(identity.kind, identity.value)
    )


def prepare(
    session: Session,
    organisation_id: int,
    events: Sequence[EventIn],
    batch_key: str | None,
    now: datetime,
) -> Prepared:
    """Check every event against the manifest; the rows to chain, or ConsentInvalid."""
    errors: list[FieldError] = []
    if batch_key is not None and personal_data_kind(batch_key):
        errors.append(FieldError("Idempotency-Key", PERSONAL_KEY))
    in_force = version_in_force(
        session=session, organisation_id=organisation_id, today=today_in_indonesia(now)
    )
    if in_force is None:
        raise LookupError(f"organisation {organisation_id} has no manifest")
    wanted = {in_force} | {e.manifest_version for e in events if e.manifest_version}
    terms = terms_of(session=session, organisation_id=organisation_id, versions=wanted)
    drafts: list[Draft] = []
    seen_keys: dict[str, int] = {}
    keyring = get_keyring()
    for index, event in enumerate(events):
        check = _Check(f"events[{index}]", keyring)
        draft = _draft(index, event, check, in_force, terms, now)
        key = event.idempotency_key
        if key is not None:
            if personal_data_kind(key):
                check.fail("idempotency_key", PERSONAL_KEY)
            elif key in seen_keys:
                check.fail(
                    "idempotency_key",
                    N_("This key is also used by events[{other}]; each event needs its own."),
                    other=seen_keys[key],
                )
            seen_keys.setdefault(key, index)
        if draft is not None and not check.problems:
            _guardian_verified(session, organisation_id, draft, check)
        errors.extend(check.problems)
        if draft is not None and not check.problems:
            drafts.append(draft)
    if errors:
        raise ConsentInvalid(errors)
    return Prepared(drafts, _fingerprint(events) if batch_key is not None else "")


def _guardian_verified(session: Session, organisation_id: int, draft: Draft, check: _Check) -> None:
    """A child's consent names a guardian whose identity jagadata verified for this child
    (docs/children.md); a signed paper form with its scan is the one other proof (Art. 24, 25)."""
    row = draft.row
    if not row["child"] or row["guardian_ref"] is None or row["channel"] == Channel.PAPER.value:
        return
    if row["kind"] not in {kind.value for kind in RECEIPT_KINDS}:
        return
    if not guardian_verified(
        session=session,
        organisation_id=organisation_id,
        child_ref=row["subject_ref"],
        guardian_ref=row["guardian_ref"],
    ):
        check.fail(
            "guardian",
            N_(
                "This guardian has not been verified for this child (Art. 25): verify them "
                "first with /guardians/verifications, or record the signed paper form."
            ),
        )


class _Check:
    """The problems of one event, each located under its prefix (`events[3]`)."""

    def __init__(self, where: str, keyring: Keyring | None = None) -> None:
        self.where = where
        self.keyring = keyring
        self.problems: list[FieldError] = []

    def fail(self, name: str, message: str, **values: Any) -> None:
        self.problems.append(FieldError(f"{self.where}.{name}", message, values))


def _draft(
    index: int,
    event: EventIn,
    check: _Check,
    in_force: int,
    terms: Mapping[tuple[int, str], PurposeTerms],
    now: datetime,
) -> Draft | None:
    kind = EventKind(event.kind)
    subject_ref = _reference(check, "subject", event.subject, event.subject_ref, required=True)
    guardian_ref = _reference(check, "guardian", event.guardian, event.guardian_ref)
    version = event.manifest_version or in_force
    if event.manifest_version is not None and (
        version < in_force or all(v != version for v, _ in terms)
    ):
        check.fail(
            "manifest_version",
            N_(
                "Version {version} is neither the version in force ({in_force}) nor an "
                "announced newer one."
            ),
            version=version,
            in_force=in_force,
        )
        return None
    purpose = terms.get((version, event.purpose))
    if purpose is None or not purpose.consent:
        check.fail(
            "purpose",
            N_("{purpose} is not a purpose of manifest version {version}.")
            if purpose is None
            else N_(
                "{purpose} is not a consent-based purpose of manifest version {version}; "
                "its legal basis is not consent (Art. 20(2)(a))."
            ),
            purpose=event.purpose,
            version=version,
        )
        return None
    shown = purpose.notice_hashes.get(event.language)
    if shown is None:
        check.fail(
            "language",
            N_("Version {version} has no consent text in {language}."),
            version=version,
            language=event.language,
        )
    elif event.notice_hash is not None and event.notice_hash != shown:
        check.fail(
            "notice_hash",
            N_(
                "This is not the hash of the consent text of {purpose} in version {version} "
                "({language}); show the text of the version in force."
            ),
            purpose=event.purpose,
            version=version,
            language=event.language,
        )
    occurred_at = event.occurred_at or now
    if occurred_at > now + CLOCK_SKEW:
        check.fail("occurred_at", N_("An event cannot have happened in the future."))
    collected = kind in COLLECTED_KINDS
    if collected and purpose.collected_via and event.channel not in purpose.collected_via:
        check.fail(
            "channel",
            N_("The manifest collects consent for {purpose} only through: {channels}."),
            purpose=event.purpose,
            channels=", ".join(purpose.collected_via),
        )
    if collected and event.channel is Channel.PAPER and not event.evidence.scan_reference:
        check.fail(
            "evidence.scan_reference",
            N_("A paper form needs a reference to its scan, to prove consent (Art. 24)."),
        )
    child = event.child or purpose.children_only
    if kind in RECEIPT_KINDS and child and guardian_ref is None:
        check.fail(
            "guardian",
            N_(
                "A child's consent must be given by a parent or guardian (Art. 25): name the "
                "guardian."
            ),
        )
    if guardian_ref is not None and guardian_ref == subject_ref:
        check.fail("guardian", N_("The guardian must be another person than the child."))
    evidence = _evidence(check, event)
    if check.problems or subject_ref is None or shown is None:
        return None
    expires_at = None
    if kind in RECEIPT_KINDS and purpose.renew_after:
        expires_at = Duration.parse(purpose.renew_after).after(occurred_at)
    contact = None
    if event.keep_contact and event.subject is not None:
        contact = (event.subject.kind.value, event.subject.value.strip())
    row = {
        "kind": kind.value,
        "subject_ref": subject_ref,
        "purpose": event.purpose,
        "manifest_version": version,
        "notice_hash": shown,
        "language": event.language,
        "channel": Channel(event.channel).value,
        "occurred_at": occurred_at,
        "expires_at": expires_at,
        "child": child,
        "guardian_ref": guardian_ref,
        "evidence": evidence,
        "idempotency_key": event.idempotency_key,
        "receipt_id": None,
        "receipt_kid": None,
    }
    return Draft(index, row, contact)


def _evidence(check: _Check, event: EventIn) -> dict[str, Any]:
    given = event.evidence
    try:
        return stored_evidence(
            ip=given.ip,
            user_agent=given.user_agent,
            scan_reference=given.scan_reference,
            reference=given.reference,
        )
    except ValueError as bad:
        check.fail(
            f"evidence.{bad}",
            N_(
                "This value is not usable as evidence: an IP address, or a reference without "
                "personal data."
            ),
        )
        return {}


def _reference(
    check: _Check,
    name: str,
    identity: Identity | None,
    reference: str | None,
    *,
    required: bool = False,
) -> str | None:
    if identity is not None and reference is not None:
        check.fail(name, N_("Give the identity or the reference, not both."))
        return None
    if reference is not None:
        if reference.startswith("anon_") and personal_data_kind(reference):
            check.fail(f"{name}_ref", N_("An anonymous consent id must not contain personal data."))
            return None
        return reference
    if identity is None:
        if required:
            check.fail(
                name,
                N_("Name the person: give subject (an identity such as an email) or subject_ref."),
            )
        return None
    try:
        return subject_reference(identity, check.keyring)
    except InvalidIdentity:
        check.fail(f"{name}.value", N_("This is not a valid {kind}."), kind=identity.kind.value)
        return None


def resolve_subject(identity: Identity | None, reference: str | None, where: str) -> str:
    """The subject_ref of a person named by identity or by reference; ConsentInvalid if neither
    (or both, or a bad identity)."""
    check = _Check("")
    found = _reference(check, where, identity, reference, required=True)
    if found is None:
        raise ConsentInvalid(
            [FieldError(e.field.lstrip("."), e.message, e.values) for e in check.problems]
        )
    return found


def _fingerprint(events: Sequence[EventIn]) -> str:
    document = [event.model_dump(mode="json") for event in events]
    return hashlib.sha256(
        json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")
    ).hexdigest()
