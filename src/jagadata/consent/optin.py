"""Opt-in by message: ask for consent by email (double opt-in) or WhatsApp, record it only when
the person confirms (Art. 20(2)(a), 22), and keep what proves it (Art. 24).

    request_optin(...)    a pending opt-in and its confirmation message, through the outbox
    confirm_email(...)    the click on the signed, single-use, expiring link: the consent event
    confirm_pending(...)  the same for a WhatsApp reply (see inbound.py)

Nothing is recorded in the ledger before the confirmation. Every message carries a withdrawal
link (email: List-Unsubscribe and one-click, RFC 8058), see unsubscribe.py.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.accounts import ratelimit
from jagadata.audit.service import Actor, record
from jagadata.config import Settings, get_settings
from jagadata.consent import links
from jagadata.consent.evidence import anonymised_ip, shortened_user_agent
from jagadata.consent.models import Channel, EventKind
from jagadata.consent.optin_models import ConsentOptIn, LinkKind, OptInChannel, OptInStatus
from jagadata.consent.receipts import receipt_url, short_url
from jagadata.consent.schemas import EventIn, Evidence, Identity, Language
from jagadata.consent.service import FieldError, LedgerEvent, record_events
from jagadata.consent.state import consent_purposes
from jagadata.consent.terms import consent_text, notice_hash
from jagadata.consent.unsubscribe import send_consent_email, usable_ip
from jagadata.db.base import utcnow
from jagadata.db.tenancy import acting_for
from jagadata.i18n import N_, gettext
from jagadata.identities import (
    IdentityKind,
    InvalidIdentity,
    identity_hash,
    normalise_email,
    normalise_phone,
)
from jagadata.manifest.schema import Manifest, Purpose
from jagadata.notify.service import enqueue_whatsapp_template
from jagadata.orgs.models import Organisation
from jagadata.orgs.service import WIB, get_version, version_manifest

CONFIRM_VALID: Final = timedelta(hours=48)
"""How long a confirmation link or WhatsApp request stays open."""
WHATSAPP_TEMPLATE: Final = "jagadata_optin"
"""The template approved in WhatsApp Manager: body "{{1}} meminta persetujuan Anda: {{2}} ..."
with quick-reply buttons YA and BERHENTI (see docs/consent.md)."""
LEDGER_CHANNEL: Final = {
    OptInChannel.EMAIL: Channel.EMAIL_DOUBLE_OPT_IN,
    OptInChannel.WHATSAPP: Channel.WHATSAPP,
}
IDENTITY_KIND: Final = {
    OptInChannel.EMAIL: IdentityKind.EMAIL,
    OptInChannel.WHATSAPP: IdentityKind.PHONE,
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "consent")


class OptInRefused(Exception):
    """The request cannot become an opt-in; `errors` say which field and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.field for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class OptInRequested:
    optin: ConsentOptIn
    expires_at: datetime


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation did: `outcome` is confirmed, already, expired or unknown."""

    outcome: str
    language: str = "id"
    events: list[LedgerEvent] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)


def marketing_purposes(manifest: Manifest, channel: OptInChannel) -> list[Purpose]:
    """Consent-based purposes the manifest lets this channel collect (`consent.collected_via`)."""
    wanted = LEDGER_CHANNEL[channel].value
    return [
        p
        for p in manifest.purposes
        if p.consent is not None
        and consent_text(p, "id") is not None
        and wanted in p.consent.collected_via
    ]


def manifest_in_force(
    *, session: Session, organisation: Organisation, now: datetime
) -> tuple[int, Manifest]:
    """The version in force and its manifest (LookupError when none is)."""
    number, _terms = consent_purposes(session=session, organisation_id=organisation.id, now=now)
    version = get_version(session=session, organisation=organisation, number=number)
    manifest = version_manifest(version) if version is not None else None
    if manifest is None:
        raise LookupError(f"no manifest in force for {organisation.slug}")
    return number, manifest


def normalised_contact(channel: OptInChannel, value: str) -> str:
    if channel is OptInChannel.EMAIL:
        return normalise_email(value)
    return normalise_phone(value)


def request_optin(
    *,
    session: Session,
    organisation: Organisation,
    channel: OptInChannel,
    contact: str,
    purposes: list[str],
    language: str,
    source: str,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> OptInRequested:
    """A pending opt-in and its confirmation message in the caller's transaction (it does not
    commit). Raises OptInRefused naming each field in error, or ratelimit.Limited when this
    contact was sent three requests in a quarter of an hour (no one is flooded with them)."""
    settings = settings or get_settings()
    now = now or utcnow()
    number, manifest = manifest_in_force(session=session, organisation=organisation, now=now)
    offered = {p.id: p for p in marketing_purposes(manifest, channel)}
    errors: list[FieldError] = []
    try:
        value = normalised_contact(channel, contact)
    except InvalidIdentity:
        message = (
            N_("Not an email address: write it as name@example.com.")
            if channel is OptInChannel.EMAIL
            else N_("Not a phone number: write it as 0812 3456 7890 or +62 812 3456 7890.")
        )
        errors.append(FieldError("contact", message))
    if not purposes:
        errors.append(FieldError("purposes", N_("Choose at least one purpose.")))
    for index, purpose in enumerate(purposes):
        if purpose not in offered:
            errors.append(
                FieldError(
                    f"purposes[{index}]",
                    N_(
                        "{purpose} is not a purpose this organisation asks consent for by this "
                        "channel (Art. 20(2)(a)); see its consent purposes."
                    ),
                    {"purpose": purpose},
                )
            )
    if language not in manifest.languages:
        language = "id"
    if errors:
        raise OptInRefused(errors)
    ratelimit.limit(
        session=session,
        scope="consent.optin_sent",
        key=f"{channel.value}:{value}",
        policy=ratelimit.SEND_CODE,
        now=now,
    )
    chosen = list(dict.fromkeys(purposes))
    texts = {p: consent_text(offered[p], language) or "" for p in chosen}
    subject_ref = identity_hash(IDENTITY_KIND[channel], value)
    evidence: dict[str, str] = {}
    if ip:
        with contextlib.suppress(ValueError):
            evidence["ip_network"] = anonymised_ip(ip)
    if user_agent:
        evidence["user_agent"] = shortened_user_agent(user_agent)
    expires_at = now + CONFIRM_VALID
    with acting_for(session, organisation.id):
        optin = ConsentOptIn(
            organisation_id=organisation.id,
            channel=channel.value,
            contact=value,
            subject_ref=subject_ref,
            purposes=chosen,
            language=language,
            manifest_version=number,
            notice_hashes={p: notice_hash(t) for p, t in texts.items()},
            status=OptInStatus.PENDING.value,
            source=source[:120],
            request_evidence=evidence,
            created_at=now,
            expires_at=expires_at,
        )
        session.add(optin)
        session.flush()
    names = ", ".join(offered[p].name.get(language) for p in chosen)
    organisation_name = manifest.organisation.display_name
    if channel is OptInChannel.EMAIL:
        token = links.issue(
            session=session,
            organisation_id=organisation.id,
            slug=organisation.slug,
            kind=LinkKind.CONFIRM,
            subject_ref=subject_ref,
            purposes=chosen,
            language=language,
            now=now,
            expires_at=expires_at,
            optin_id=optin.id,
        )
        confirm_url = links.page_url(settings.base_url, organisation.slug, LinkKind.CONFIRM, token)
        quoted = "\n\n".join(f"“{texts[p]}”" for p in chosen)
        body = _t(
            language,
            "{organisation} asks for your consent to: {purposes}.\n\n"
            "What you agree to:\n\n{texts}\n\n"
            "To give your consent, open this link and press the button (until {expires}):\n"
            "{confirm_url}\n\n"
            "If you did not ask for this, ignore this message: nothing is recorded unless you "
            "confirm. Under Indonesia's Personal Data Protection Law (UU PDP), consent must be "
            "explicit and recorded (Art. 20(2)(a), 22).",
        ).format(
            organisation=organisation_name,
            purposes=names,
            texts=quoted,
            expires=_local(expires_at, language),
            confirm_url=confirm_url,
        )
        outbox = send_consent_email(
            session=session,
            organisation=organisation,
            organisation_name=organisation_name,
            to=value,
            subject=_t(language, "Confirm your consent for {organisation}").format(
                organisation=organisation_name
            ),
            body=body,
            subject_ref=subject_ref,
            purposes=chosen,
            language=language,
            now=now,
            settings=settings,
        )
    else:
        outbox = enqueue_whatsapp_template(
            session=session,
            organisation_id=organisation.id,
            to=value,
            template=WHATSAPP_TEMPLATE,
            language=language,
            parameters=[organisation_name, " ".join(texts[p] for p in chosen)],
        )
    optin.outbox_message_id = outbox.id
    record(
        session=session,
        organisation_id=organisation.id,
        actor=Actor.system(source[:120]),
        action="consent.optin_requested",
        target_type="consent_optin",
        target_id=optin.id,
        subject_ref=subject_ref,
        details={"channel": channel.value, "purposes": chosen},
    )
    session.flush()
    return OptInRequested(optin, expires_at)


def _local(moment: datetime, lang: str) -> str:
    from babel.dates import format_datetime

    return format_datetime(moment.astimezone(WIB), format="medium", locale=lang) + " WIB"


def confirm_email(
    *,
    session: Session,
    organisation: Organisation,
    token: str,
    ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> Confirmation:
    """The click on a confirmation link: record `given` for each purpose (channel
    email_double_opt_in), once. An expired or used link records nothing."""
    now = now or utcnow()
    link = links.find(
        session=session,
        organisation_id=organisation.id,
        slug=organisation.slug,
        kind=LinkKind.CONFIRM,
        token=token,
    )
    if link is None or link.optin_id is None:
        return Confirmation("unknown")
    if link.used_at is not None:
        return Confirmation("already", link.language, purposes=list(link.purposes))
    if link.expires_at is not None and link.expires_at <= now:
        return Confirmation("expired", link.language, purposes=list(link.purposes))
    with acting_for(session, organisation.id):
        optin = session.get_one(ConsentOptIn, link.optin_id)
    if optin.status != OptInStatus.PENDING.value:
        return Confirmation("already", link.language, purposes=list(link.purposes))
    link.used_at = now
    events = confirm_pending(
        session=session,
        organisation=organisation,
        optin=optin,
        ip=ip,
        user_agent=user_agent,
        now=now,
        settings=settings,
    )
    return Confirmation("confirmed", optin.language, events, list(optin.purposes))


def confirm_pending(
    *,
    session: Session,
    organisation: Organisation,
    optin: ConsentOptIn,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
    reference: str | None = None,
    settings: Settings | None = None,
) -> list[LedgerEvent]:
    """Record the consent a pending opt-in asked for, then send its receipt with a withdrawal
    link. Raises ConsentInvalid when the terms changed since it was asked (ask again)."""
    settings = settings or get_settings()
    channel = OptInChannel(optin.channel)
    kind = IDENTITY_KIND[channel]
    requested = optin.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    events = [
        EventIn(
            kind=EventKind.GIVEN,
            purpose=purpose,
            subject=Identity(kind=kind, value=optin.contact),
            language=cast(Language, optin.language),
            channel=LEDGER_CHANNEL[channel],
            manifest_version=optin.manifest_version,
            notice_hash=optin.notice_hashes[purpose],
            evidence=Evidence(
                ip=usable_ip(ip),
                user_agent=user_agent,
                reference=reference or f"opt-in {optin.id} requested {requested}",
            ),
            idempotency_key=f"optin-{optin.id}-{purpose}",
            keep_contact=True,
        )
        for purpose in optin.purposes
    ]
    recorded = record_events(
        session=session,
        organisation_id=organisation.id,
        events=events,
        actor=Actor.data_subject(optin.subject_ref),
        now=now,
    )
    optin.status = OptInStatus.CONFIRMED.value
    optin.confirmed_at = now
    session.flush()
    if channel is OptInChannel.EMAIL:
        _send_receipt_email(session, organisation, optin, recorded.events, now, settings)
    return recorded.events


def _send_receipt_email(
    session: Session,
    organisation: Organisation,
    optin: ConsentOptIn,
    events: list[LedgerEvent],
    now: datetime,
    settings: Settings,
) -> None:
    lang = optin.language
    _number, manifest = manifest_in_force(session=session, organisation=organisation, now=now)
    name = manifest.organisation.display_name
    receipts = "\n".join(
        receipt_url(settings.base_url, organisation.slug, e.receipt_id)
        for e in events
        if e.receipt_id
    )
    body = _t(
        lang,
        "Thank you: your consent to {organisation} is recorded. Your signed receipt:\n{receipts}",
    ).format(organisation=name, receipts=receipts)
    send_consent_email(
        session=session,
        organisation=organisation,
        organisation_name=name,
        to=optin.contact,
        subject=_t(lang, "Your consent receipt from {organisation}").format(organisation=name),
        body=body,
        subject_ref=optin.subject_ref,
        purposes=list(optin.purposes),
        language=lang,
        now=now,
        settings=settings,
    )


def pending_whatsapp(
    *, session: Session, subject_ref: str, now: datetime, outbox_message_id: int | None
) -> ConsentOptIn | None:
    """The WhatsApp opt-in a reply answers: the one whose message it replies to, else the
    newest still open for this number (any organisation on this deployment's number)."""
    from jagadata.db.tenancy import across_organisations

    query = select(ConsentOptIn).where(
        ConsentOptIn.subject_ref == subject_ref,
        ConsentOptIn.channel == OptInChannel.WHATSAPP.value,
        ConsentOptIn.status == OptInStatus.PENDING.value,
        ConsentOptIn.expires_at > now,
    )
    with across_organisations(session):
        if outbox_message_id is not None:
            found = session.scalars(
                query.where(ConsentOptIn.outbox_message_id == outbox_message_id)
            ).one_or_none()
            if found is not None:
                return found
        return session.scalars(
            query.order_by(ConsentOptIn.created_at.desc(), ConsentOptIn.id.desc()).limit(1)
        ).one_or_none()


def receipt_links(base_url: str, events: list[LedgerEvent]) -> list[str]:
    return [short_url(base_url, e.receipt_id) for e in events if e.receipt_id]
