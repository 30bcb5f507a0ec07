"""Consent receipts: what a person keeps to prove what they agreed to (UU PDP Art. 22, 24).

Every `given` or `renewed` event has a receipt with the fields of the Kantara Initiative
Consent Receipt v1.1, plus a `jagadata` object that ties it to the ledger (the event's number
and hash, the manifest version and the hash of the text shown). It is signed as a compact JWS
(EdDSA, Ed25519) with the organisation key named on the event; Ed25519 is deterministic, so
the receipt of an event is the same bytes whenever it is fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.consent import signing
from jagadata.consent.models import ConsentEvent, SigningKey
from jagadata.consent.terms import consent_text, cookie_purpose, version_manifest
from jagadata.db.tenancy import across_organisations, acting_for
from jagadata.i18n import N_, gettext
from jagadata.law.facts import SPECIFIC_TYPES, SpecificType
from jagadata.manifest.schema import Manifest, Purpose, RecipientRole
from jagadata.orgs.models import ManifestVersion, Organisation
from jagadata.policy import labels

KANTARA_VERSION: Final = "KI-CR-v1.1.0"
JURISDICTION: Final = "ID"

COLLECTION_METHODS: Final = {
    "web_form": N_("web form"),
    "cookie_banner": N_("cookie banner"),
    "whatsapp": N_("WhatsApp"),
    "email_double_opt_in": N_("email with confirmation (double opt-in)"),
    "paper": N_("signed paper form"),
    "api": N_("the organisation's system"),
}
PURPOSE_CATEGORIES: Final = (
    ("marketing", "Marketing"),
    ("newsletter", "Marketing"),
    ("personalis", "Personalized Experience"),
    ("personaliz", "Personalized Experience"),
    ("analytics", "Improve Performance"),
)


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "consent")


def receipt_url(base_url: str, slug: str, receipt_id: str) -> str:
    return f"{base_url.rstrip('/')}/o/{slug}/receipts/{receipt_id}"


def short_url(base_url: str, receipt_id: str) -> str:
    """A short link to the receipt page, to send in a WhatsApp message."""
    return f"{base_url.rstrip('/')}/r/{receipt_id}"


@dataclass(frozen=True)
class Receipt:
    event: ConsentEvent
    organisation: Organisation
    manifest: Manifest
    payload: dict[str, Any]
    jws: str
    key: SigningKey


def find_event(*, session: Session, organisation_id: int, receipt_id: str) -> ConsentEvent | None:
    with acting_for(session, organisation_id):
        return session.scalars(
            select(ConsentEvent).where(
                ConsentEvent.organisation_id == organisation_id,
                ConsentEvent.receipt_id == receipt_id,
            )
        ).one_or_none()


def organisation_of_receipt(*, session: Session, receipt_id: str) -> Organisation | None:
    """Whose receipt this is (for the short link, which names no organisation)."""
    with across_organisations(session):
        organisation_id = session.scalar(
            select(ConsentEvent.organisation_id).where(ConsentEvent.receipt_id == receipt_id)
        )
    return session.get(Organisation, organisation_id) if organisation_id is not None else None


def load_receipt(
    *, session: Session, organisation: Organisation, receipt_id: str, base_url: str
) -> Receipt | None:
    """The signed receipt of the event with this receipt id in the organisation, or None."""
    event = find_event(session=session, organisation_id=organisation.id, receipt_id=receipt_id)
    if event is None or event.receipt_kid is None:
        return None
    with acting_for(session, organisation.id):
        version = session.scalars(
            select(ManifestVersion).where(
                ManifestVersion.organisation_id == organisation.id,
                ManifestVersion.number == event.manifest_version,
            )
        ).one()
    manifest = version_manifest(version)
    key = signing.key_by_kid(
        session=session, organisation_id=organisation.id, kid=event.receipt_kid
    )
    if manifest is None or key is None:
        return None
    payload = receipt_payload(
        event=event,
        manifest=manifest,
        organisation=organisation,
        public_key=key.public_key,
        base_url=base_url,
    )
    return Receipt(event, organisation, manifest, payload, signing.sign(payload, key), key)


def receipt_payload(
    *,
    event: ConsentEvent,
    manifest: Manifest,
    organisation: Organisation,
    public_key: str,
    base_url: str,
) -> dict[str, Any]:
    """The Kantara Consent Receipt v1.1 fields of an event, in the event's language."""
    lang = event.language
    purpose = manifest.purpose(event.purpose) or cookie_purpose(manifest, event.purpose)
    if purpose is None:
        raise LookupError(
            f"purpose {event.purpose} is not in manifest version {event.manifest_version}"
        )
    org = manifest.organisation
    centre = f"{base_url.rstrip('/')}/o/{organisation.slug}/"
    specific = [c for c in purpose.categories if manifest.is_specific(c)]
    return {
        "version": KANTARA_VERSION,
        "jurisdiction": JURISDICTION,
        "consentTimestamp": int(event.occurred_at.timestamp()),
        "collectionMethod": _t(lang, COLLECTION_METHODS[event.channel]),
        "consentReceiptID": event.receipt_id,
        "publicKey": public_key,
        "language": lang,
        "piiPrincipalId": event.subject_ref,
        "piiControllers": [
            {
                "piiController": org.name,
                "onBehalf": False,
                "contact": org.dpo.name if org.dpo else org.display_name,
                "address": {
                    "streetAddress": " ".join(org.address.split()),
                    "addressCountry": JURISDICTION,
                },
                "email": str(org.dpo.email if org.dpo else org.email),
                "phone": org.phone or org.whatsapp or "",
                "piiControllerUrl": org.website or centre,
            }
        ],
        "policyUrl": manifest.policy.url or centre,
        "services": [
            {
                "service": manifest.policy.services.get(lang)
                if manifest.policy.services
                else org.display_name,
                "purposes": [_purpose(manifest, purpose, event, lang)],
            }
        ],
        "sensitive": bool(specific) or event.child,
        "spiCat": sorted(
            {gettext(lang, specific_label(manifest, c)) for c in specific}
            | ({gettext(lang, SPECIFIC_TYPES[SpecificType.CHILD][1])} if event.child else set())
        ),
        "iat": int(event.recorded_at.timestamp()),
        "iss": centre,
        "jagadata": {
            "organisation": organisation.slug,
            "event": event.sequence,
            "eventHash": event.hash,
            "kind": event.kind,
            "manifestVersion": event.manifest_version,
            "noticeHash": event.notice_hash,
            "consentText": consent_text(purpose, lang),
            "expiresAt": event.expires_at.isoformat() if event.expires_at else None,
            "guardian": event.guardian_ref,
        },
    }


def specific_label(manifest: Manifest, category_id: str) -> str:
    category = manifest.category(category_id)
    if category is None or category.specific_type is None:
        return N_("other data set by law")
    return SPECIFIC_TYPES[category.specific_type][1]


def _purpose(
    manifest: Manifest, purpose: Purpose, event: ConsentEvent, lang: str
) -> dict[str, Any]:
    recipients = [r for r in (manifest.recipient(i) for i in purpose.recipients) if r]
    third = [r for r in recipients if r.role is not RecipientRole.PROCESSOR] or recipients
    category = next((name for key, name in PURPOSE_CATEGORIES if key in purpose.id), "Other")
    return {
        "purpose": purpose.name.get(lang),
        "purposeCategory": [category],
        "consentType": "EXPLICIT",
        "piiCategory": [
            c.name.get(lang)
            for c in (manifest.category(i) for i in purpose.categories)
            if c is not None
        ],
        "primaryPurpose": True,
        "termination": termination(manifest, purpose, event.expires_at, lang),
        "thirdPartyDisclosure": bool(recipients),
        "thirdPartyName": ", ".join(
            r.name if isinstance(r.name, str) else r.name.get(lang) for r in third
        ),
    }


def termination(
    manifest: Manifest, purpose: Purpose, expires_at: datetime | None, lang: str
) -> str:
    """When the consent ends, and how the person can withdraw it (Art. 9, 40)."""
    org = manifest.organisation
    ways = [
        gettext(lang, labels.WITHDRAWAL[channel], "policy").format(
            email=org.email, whatsapp=org.whatsapp or "", phone=org.phone or ""
        )
        for channel in (purpose.consent.withdrawal if purpose.consent else [])
    ]
    until = (
        _t(lang, N_("Until {date}, unless withdrawn earlier.")).format(
            date=expires_at.date().isoformat()
        )
        if expires_at
        else _t(lang, N_("Until withdrawn."))
    )
    if not ways:
        return until
    return (
        until
        + " "
        + _t(lang, N_("Withdraw at any time through: {ways}.")).format(ways="; ".join(ways))
    )
