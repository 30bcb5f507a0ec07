"""What a parent, guardian or adult is asked: the consent-based purposes of the manifest version
in force with their exact texts and hashes (Art. 20(2)(a), 21-22), the age rule of the manifest
(Art. 25), the channel the ledger records, and the problems the flow reports."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy.orm import Session

from jagadata.consent import state
from jagadata.consent.models import Channel
from jagadata.consent.schemas import Evidence
from jagadata.consent.terms import PurposeTerms, consent_text, version_manifest
from jagadata.i18n import N_
from jagadata.identities import IdentityKind
from jagadata.manifest.schema import Manifest
from jagadata.orgs.models import Organisation
from jagadata.orgs.service import get_version, today_in_indonesia

ART_25: Final = N_(
    "A child cannot consent alone: a parent or guardian must give consent for a child "
    "(Art. 25 UU PDP)."
)


class GuardianProblem(Exception):
    """Nothing was done: `message` (an English msgid of the `children` domain) says why."""

    def __init__(self, field: str, message: str, **values: object) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.values = values


class TooManyCodes(GuardianProblem):
    """The contact received CODES_PER_CONTACT codes within the last CODES_WINDOW."""


@dataclass(frozen=True)
class Offer:
    """A consent-based purpose a guardian is asked about: its exact texts in the version."""

    purpose: str
    name: str
    text: str
    language: str
    notice_hash: str
    terms: PurposeTerms


def age_on(birth_date: date, today: date) -> int:
    """Whole years between a birth date and today."""
    years = today.year - birth_date.year
    return years - ((today.month, today.day) < (birth_date.month, birth_date.day))


def asks_age(manifest: Manifest) -> bool:
    """The manifest says children may use the service: ask the age before consent."""
    return manifest.children is not None and manifest.children.served


def minimum_age(manifest: Manifest) -> int:
    return manifest.children.minimum_age if manifest.children is not None else 18


def manifest_in_force(
    *, session: Session, organisation: Organisation, now: datetime
) -> tuple[int, Manifest, list[PurposeTerms]]:
    """The version in force, its manifest, and the terms of its consent-based purposes."""
    number, terms = state.consent_purposes(
        session=session, organisation_id=organisation.id, now=now
    )
    version = get_version(session=session, organisation=organisation, number=number)
    manifest = version_manifest(version) if version is not None else None
    if manifest is None:
        raise LookupError(f"organisation {organisation.id} has no readable manifest")
    return number, manifest, terms


FORM_CHANNELS: Final = (Channel.WEB_FORM, Channel.EMAIL_DOUBLE_OPT_IN, Channel.WHATSAPP)
"""Channels a consent form of this flow can stand for; a cookie banner's purposes are not asked."""


def offers(
    *,
    manifest: Manifest,
    terms: Sequence[PurposeTerms],
    lang: str,
    wanted: Sequence[str] | None = None,
    for_children: bool = True,
) -> list[Offer]:
    """The purposes to show, with the exact consent text and hash in `lang` (Indonesian when the
    version has no text in `lang`). Unknown or non-consent purposes in `wanted` are refused;
    without `wanted`, every purpose a form can collect."""
    by_id = {t.purpose: t for t in terms}
    chosen = list(wanted) if wanted else sorted(by_id)
    found: list[Offer] = []
    for index, purpose_id in enumerate(chosen):
        term = by_id.get(purpose_id)
        purpose = manifest.purpose(purpose_id)
        if (term is None or purpose is None) and not wanted:
            continue  # e.g. a cookie's consent, asked by the banner
        if term is None or purpose is None:
            raise GuardianProblem(
                f"purposes[{index}]",
                N_("{purpose} is not a consent-based purpose of the policy in force."),
                purpose=purpose_id,
            )
        if not wanted and term.collected_via and not _form_collects(term):
            continue
        if not for_children and _concerns_children(manifest, purpose.subjects):
            continue
        shown = lang if lang in term.notice_hashes else "id"
        text = consent_text(purpose, shown)
        if text is None or shown not in term.notice_hashes:
            continue
        found.append(
            Offer(purpose_id, purpose.name.get(shown), text, shown, term.notice_hashes[shown], term)
        )
    if not found:
        raise GuardianProblem(
            "purposes", N_("There is no purpose to consent to through this form.")
        )
    return found


def _concerns_children(manifest: Manifest, subjects: Sequence[str]) -> bool:
    children = {group.id for group in manifest.data_subjects if group.children}
    return bool(children & set(subjects))


def _form_collects(term: PurposeTerms) -> bool:
    return any(channel.value in term.collected_via for channel in FORM_CHANNELS)


def channel_for(shown: Sequence[Offer], kind: IdentityKind, wanted: Channel | None) -> Channel:
    """The channel the ledger records: the one asked, else the web form, else the message the
    code travels by (email double opt-in, WhatsApp), whichever every purpose collects by."""
    message = Channel.EMAIL_DOUBLE_OPT_IN if kind is IdentityKind.EMAIL else Channel.WHATSAPP
    candidates = [wanted] if wanted is not None else [Channel.WEB_FORM, message]
    for channel in candidates:
        if all(not o.terms.collected_via or channel.value in o.terms.collected_via for o in shown):
            return channel
    refused = next(o for o in shown if candidates[-1].value not in o.terms.collected_via)
    raise GuardianProblem(
        "purposes",
        N_("Consent for {purpose} is not collected through {channel}."),
        purpose=refused.purpose,
        channel=candidates[-1].value,
    )


def evidence_of(ip: str | None, user_agent: str | None, reference: str | None = None) -> Evidence:
    """What the ledger keeps as evidence: the client's address only if it is one."""
    try:
        address = str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        address = None
    return Evidence(ip=address, user_agent=user_agent, reference=reference)


def today(now: datetime) -> date:
    return today_in_indonesia(now)
