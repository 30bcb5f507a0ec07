"""Withdrawal in one click, in every consent message (Art. 9, 40: at any time; processing stops
within 3 x 24 hours).

Every consent email jagadata sends carries `List-Unsubscribe: <https://.../api/v1/orgs/{org}/
consent/unsubscribe/{token}>` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
(RFC 8058), and a visible link to `/o/{org}/unsubscribe/{token}`. An organisation gets the
same signed link for its own messages from `withdrawal_link`. Withdrawal goes through
`withdrawal.withdraw`, so the state and the chain move together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import update
from sqlalchemy.orm import Session

from jagadata.audit.service import Actor
from jagadata.config import Settings, get_settings
from jagadata.consent import links
from jagadata.consent.evidence import anonymised_ip
from jagadata.consent.models import Channel
from jagadata.consent.optin_models import ConsentOptIn, LinkKind, OptInStatus
from jagadata.consent.schemas import Evidence, Language
from jagadata.consent.state import given_purposes
from jagadata.consent.withdrawal import withdraw
from jagadata.db.base import utcnow
from jagadata.db.tenancy import acting_for
from jagadata.i18n import gettext
from jagadata.notify.models import OutboxMessage
from jagadata.notify.service import enqueue_email
from jagadata.orgs.models import Organisation

PROCESSING_STOPS_WITHIN: Final = timedelta(hours=72)
"""Art. 40(1) with Art. 9: processing ends within 3 x 24 hours of the withdrawal."""
ONE_CLICK_BODY: Final = "List-Unsubscribe=One-Click"


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "consent")


@dataclass(frozen=True)
class WithdrawalLink:
    token: str
    url: str
    one_click_url: str

    @property
    def headers(self) -> dict[str, str]:
        """The RFC 2369 / RFC 8058 headers for a message carrying this link."""
        return {
            "List-Unsubscribe": f"<{self.one_click_url}>",
            "List-Unsubscribe-Post": ONE_CLICK_BODY,
        }

    def whatsapp_text(self, lang: str) -> str:
        return _t(
            lang,
            "To withdraw your consent at any time, reply BERHENTI or open {url}",
        ).format(url=self.url)


@dataclass(frozen=True)
class Withdrawn:
    """What a withdrawal link did: the purposes withdrawn now (empty: nothing was in effect)
    and the moment by which processing stops."""

    language: str
    purposes: list[str]
    stops_by: datetime


def usable_ip(value: str | None) -> str | None:
    """The address when it is one (a test client or a proxy may give a name instead)."""
    if not value:
        return None
    try:
        anonymised_ip(value)
    except ValueError:
        return None
    return value


def withdrawal_link(
    *,
    session: Session,
    organisation: Organisation,
    subject_ref: str,
    purposes: list[str],
    language: str,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> WithdrawalLink:
    """A new signed withdrawal link for a person and purposes (empty: every purpose), stored in
    the caller's transaction. It never expires: consent can be withdrawn at any time."""
    settings = settings or get_settings()
    token = links.issue(
        session=session,
        organisation_id=organisation.id,
        slug=organisation.slug,
        kind=LinkKind.WITHDRAW,
        subject_ref=subject_ref,
        purposes=purposes,
        language=language,
        now=now or utcnow(),
    )
    return WithdrawalLink(
        token=token,
        url=links.page_url(settings.base_url, organisation.slug, LinkKind.WITHDRAW, token),
        one_click_url=links.one_click_url(settings.base_url, organisation.slug, token),
    )


def send_consent_email(
    *,
    session: Session,
    organisation: Organisation,
    organisation_name: str,
    to: str,
    subject: str,
    body: str,
    subject_ref: str,
    purposes: list[str],
    language: str,
    now: datetime,
    settings: Settings,
) -> OutboxMessage:
    """Put a consent email in the outbox with its withdrawal link: visible at the foot of the
    text, and as List-Unsubscribe (one-click) headers."""
    link = withdrawal_link(
        session=session,
        organisation=organisation,
        subject_ref=subject_ref,
        purposes=purposes,
        language=language,
        now=now,
        settings=settings,
    )
    foot = _t(
        language,
        "You can withdraw your consent at any time with one click: {url}\n"
        "{organisation} then stops this processing within 3 x 24 hours (UU PDP Art. 9, 40).",
    ).format(url=link.url, organisation=organisation_name)
    message = enqueue_email(
        session=session,
        organisation_id=organisation.id,
        to=to,
        subject=subject,
        text=f"{body}\n\n--\n{foot}\n",
        lang=language,
        settings=settings,
    )
    message.payload = {**message.payload, "headers": link.headers}
    session.flush()
    return message


def withdraw_by_link(
    *,
    session: Session,
    organisation: Organisation,
    token: str,
    one_click: bool,
    ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> Withdrawn | None:
    """Withdraw what the link names (in the caller's transaction); None for an unknown link.
    A second click records nothing more. Pending opt-ins of the person are cancelled too."""
    now = now or utcnow()
    link = links.find(
        session=session,
        organisation_id=organisation.id,
        slug=organisation.slug,
        kind=LinkKind.WITHDRAW,
        token=token,
    )
    if link is None:
        return None
    given = given_purposes(
        session=session, organisation_id=organisation.id, subject_ref=link.subject_ref
    )
    chosen = [p for p in given if not link.purposes or p in link.purposes]
    with acting_for(session, organisation.id):
        pending = (
            update(ConsentOptIn)
            .where(
                ConsentOptIn.organisation_id == organisation.id,
                ConsentOptIn.subject_ref == link.subject_ref,
                ConsentOptIn.status == OptInStatus.PENDING.value,
            )
            .values(status=OptInStatus.CANCELLED.value)
            .execution_options(synchronize_session=False)
        )
        session.execute(pending)
    language: Language = link.language if link.language in ("id", "en", "fr") else "id"  # type: ignore[assignment]
    if chosen:
        withdraw(
            session=session,
            organisation_id=organisation.id,
            subject_ref=link.subject_ref,
            actor=Actor.data_subject(link.subject_ref),
            purposes=chosen,
            language=language,
            channel=Channel.WEB_FORM,
            evidence=Evidence(
                ip=usable_ip(ip),
                user_agent=user_agent,
                reference="one-click unsubscribe (RFC 8058)" if one_click else "withdrawal link",
            ),
            now=now,
            ip=usable_ip(ip),
            user_agent=user_agent,
        )
    link.used_at = link.used_at or now
    session.flush()
    return Withdrawn(language=language, purposes=chosen, stops_by=now + PROCESSING_STOPS_WITHIN)
