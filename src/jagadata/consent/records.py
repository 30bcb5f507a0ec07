"""A person's consent record in the structure of ISO/IEC TS 27560:2023 (consent record
information structure): the notice, its language, the purposes with their data, recipients,
retention and withdrawal method, the controller, the jurisdiction, and every event.

It is what the controller shows to prove consent (UU PDP Art. 24) and what a person receives
when they ask for their processing trail (Art. 7, 32).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.consent.ledger import EVENT_COLUMNS
from jagadata.consent.models import ConsentEvent
from jagadata.consent.receipts import receipt_url, termination
from jagadata.consent.state import Answer, check_many, history
from jagadata.consent.terms import consent_text, cookie_purpose, notice_hash, version_manifest
from jagadata.db.base import utcnow
from jagadata.db.tenancy import acting_for
from jagadata.law.facts import LegalBasis
from jagadata.manifest.schema import Manifest, Purpose, Sensitivity
from jagadata.orgs.models import ManifestVersion, Organisation
from jagadata.orgs.service import current_version

SCHEMA: Final = "ISO/IEC TS 27560:2023"
PROFILE: Final = "jagadata-consent-record/1"


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def consent_record(
    *,
    session: Session,
    organisation: Organisation,
    subject_ref: str,
    base_url: str,
    lang: str = "id",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The person's record: notice and purposes of the version in force, and their events."""
    now = now or utcnow()
    version = current_version(session=session, organisation=organisation, today=None)
    if version is None:
        raise LookupError(f"organisation {organisation.slug} has no manifest")
    manifest = version_manifest(version)
    if manifest is None:
        raise LookupError(f"manifest version {version.number} no longer loads")
    events = history(session=session, organisation_id=organisation.id, subject_ref=subject_ref)
    in_force = [p for p in manifest.purposes if p.legal_basis is LegalBasis.CONSENT and p.consent]
    answers = {
        answer.purpose: answer
        for answer in check_many(
            session=session,
            organisation_id=organisation.id,
            pairs=[(subject_ref, p.id) for p in in_force],
            now=now,
        )
    }
    earlier = _earlier_purposes(session, organisation, events, {p.id for p in in_force})
    org = manifest.organisation
    return {
        "schema": SCHEMA,
        "profile": PROFILE,
        "recordId": f"{organisation.slug}:{subject_ref}",
        "generatedAt": _iso(now),
        "language": lang,
        "piiPrincipalId": subject_ref,
        "piiPrincipalType": "anonymous" if subject_ref.startswith("anon_") else "identified",
        "controller": {
            "name": org.name,
            "tradingName": org.trading_name,
            "address": " ".join(org.address.split()),
            "email": str(org.email),
            "phone": org.phone or org.whatsapp,
            "website": org.website,
            "dpo": {"name": org.dpo.name, "email": str(org.dpo.email)} if org.dpo else None,
        },
        "jurisdiction": "ID",
        "legislation": [law.get(lang) for law in manifest.governing_law.laws]
        or ["UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi"],
        "notice": {
            "manifestVersion": version.number,
            "effective": version.effective.isoformat(),
            "policyUrl": manifest.policy.url or f"{base_url.rstrip('/')}/o/{organisation.slug}/",
            "languages": list(manifest.languages),
            "manifestHash": version.content_hash,
        },
        "purposes": [
            _purpose(manifest, purpose, lang, answers.get(purpose.id), version.number)
            for purpose in in_force
        ]
        + [_purpose(m, p, lang, None, number) for number, m, p in earlier],
        "events": [_event(event, organisation, base_url) for event in events],
    }


def _earlier_purposes(
    session: Session, organisation: Organisation, events: list[ConsentEvent], shown: set[str]
) -> list[tuple[int, Manifest, Purpose]]:
    """Purposes the person has events for that are no longer consent-based, as last described."""
    latest: dict[str, int] = {}
    for event in events:
        if event.purpose not in shown:
            latest[event.purpose] = max(latest.get(event.purpose, 0), event.manifest_version)
    found = []
    for purpose_id, number in sorted(latest.items()):
        with acting_for(session, organisation.id):
            version = session.scalars(
                select(ManifestVersion).where(
                    ManifestVersion.organisation_id == organisation.id,
                    ManifestVersion.number == number,
                )
            ).one_or_none()
        manifest = version_manifest(version) if version else None
        purpose = (
            manifest.purpose(purpose_id) or cookie_purpose(manifest, purpose_id)
            if manifest
            else None
        )
        if manifest is not None and purpose is not None:
            found.append((number, manifest, purpose))
    return found


def _purpose(
    manifest: Manifest, purpose: Purpose, lang: str, answer: Answer | None, version: int
) -> dict[str, Any]:
    text = consent_text(purpose, lang)
    categories = [c for c in (manifest.category(i) for i in purpose.categories) if c]
    recipients = [r for r in (manifest.recipient(i) for i in purpose.recipients) if r]
    rules = [r for r in manifest.retention if set(r.categories) & set(purpose.categories)]
    return {
        "id": purpose.id,
        "name": purpose.name.get(lang),
        "description": purpose.description.get(lang) if purpose.description else None,
        "manifestVersion": version,
        "legalBasis": {
            "basis": purpose.legal_basis.value if purpose.legal_basis else None,
            "article": "Art. 20(2)(a) UU PDP"
            if purpose.legal_basis is LegalBasis.CONSENT
            else None,
        },
        "consentText": text,
        "noticeHash": notice_hash(text) if text else None,
        "dataCategories": [
            {
                "id": c.id,
                "name": c.name.get(lang),
                "sensitive": c.sensitivity is Sensitivity.SPECIFIC,
            }
            for c in categories
        ],
        "recipients": [
            {
                "id": r.id,
                "name": r.name if isinstance(r.name, str) else r.name.get(lang),
                "role": r.role.value,
                "countries": list(r.countries),
            }
            for r in recipients
        ],
        "retention": [
            {
                "id": r.id,
                "name": r.name.get(lang),
                "period": str(r.period),
                "action": r.action.value,
            }
            for r in rules
        ],
        "withdrawal": {
            "channels": [c.value for c in purpose.consent.withdrawal] if purpose.consent else [],
            "description": termination(manifest, purpose, None, lang),
        },
        "renewAfter": str(purpose.consent.renew_after)
        if purpose.consent and purpose.consent.renew_after
        else None,
        "collectionMethods": list(purpose.consent.collected_via) if purpose.consent else [],
        "status": _status(answer),
    }


def _status(answer: Answer | None) -> dict[str, Any] | None:
    if answer is None:
        return None
    return {
        "allowed": answer.allowed,
        "reason": answer.reason.value,
        "expiresAt": _iso(answer.expires_at),
        "validFromVersion": answer.valid_from_version,
        "event": answer.event.sequence if answer.event else None,
    }


def _event(event: ConsentEvent, organisation: Organisation, base_url: str) -> dict[str, Any]:
    values = {name: getattr(event, name) for name in EVENT_COLUMNS}
    return {
        "sequence": values["sequence"],
        "kind": values["kind"],
        "purpose": values["purpose"],
        "occurredAt": _iso(values["occurred_at"]),
        "recordedAt": _iso(values["recorded_at"]),
        "expiresAt": _iso(values["expires_at"]),
        "channel": values["channel"],
        "language": values["language"],
        "manifestVersion": values["manifest_version"],
        "noticeHash": values["notice_hash"],
        "collector": collector(values["actor_kind"], values["actor_id"]),
        "evidence": values["evidence"],
        "child": values["child"],
        "guardianRef": values["guardian_ref"],
        "receipt": receipt_url(base_url, organisation.slug, values["receipt_id"])
        if values["receipt_id"]
        else None,
        "hash": values["hash"],
        "prevHash": values["prev_hash"],
    }


def collector(actor_kind: str, actor_id: str | None) -> str:
    return f"{actor_kind}:{actor_id}" if actor_id else actor_kind
