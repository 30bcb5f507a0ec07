"""Users, their memberships, one-time sign-in links and recovery codes.

Each function that writes runs in the caller's transaction, writes its audit entry in it, and
leaves committing to the caller (`with atomic(session): ...`), so the change and its evidence
commit together.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from jagadata.accounts import passwords, sessions, totp
from jagadata.accounts.models import Membership, RecoveryCode, SignInLink, User
from jagadata.accounts.roles import Role
from jagadata.audit.service import Actor, record
from jagadata.crypto import get_keyring
from jagadata.db.base import utcnow
from jagadata.db.tenancy import across_organisations, acting_for
from jagadata.i18n import N_
from jagadata.identities import normalise_email
from jagadata.orgs.models import Organisation

SIGN_IN_LINK_LIFETIME: Final = timedelta(hours=24)
RECOVERY_CODES: Final = 10
_RECOVERY_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyz23456789"
"""No 0/o, 1/l/i: a code copied from paper is read right."""


class AccountError(Exception):
    """A request about accounts that cannot be carried out; `reason` is an English msgid."""

    reason = N_("This cannot be done.")


class AlreadyMember(AccountError):
    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


class NotMember(AccountError):
    pass


class LastOwner(AccountError):
    """An organisation always keeps at least one owner, who can add the others."""


class UserNotFound(AccountError):
    pass


class LinkInvalid(AccountError):
    """The link is unknown, used, replaced or expired (the same answer for all four)."""


class EnrolmentRefused(AccountError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def email_hash(email: str) -> str:
    return get_keyring().lookup_hash("email", normalise_email(email))


def find_user(*, session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email_hash == email_hash(email))).one_or_none()


def add_user(
    *,
    session: Session,
    email: str,
    organisation: Organisation,
    role: Role,
    actor: Actor,
    display_name: str | None = None,
    now: datetime | None = None,
) -> tuple[User, bool]:
    """The user with this email (created without a password if new), now a member of the
    organisation with `role`; (user, created). Raises AlreadyMember if they already are."""
    now = now or utcnow()
    normalised = normalise_email(email)
    user = find_user(session=session, email=normalised)
    created = user is None
    if user is None:
        user = User(
            email=normalised,
            email_hash=email_hash(normalised),
            display_name=display_name,
            created_at=now,
            disabled=False,
        )
        session.add(user)
        session.flush()
        record(
            session=session,
            organisation_id=organisation.id,
            actor=actor,
            action="user.added",
            target_type="user",
            target_id=user.id,
            occurred_at=now,
        )
    existing = membership(session=session, user_id=user.id, organisation_id=organisation.id)
    if existing is not None:
        raise AlreadyMember(existing.role)
    with acting_for(session, organisation.id):
        session.add(
            Membership(
                organisation_id=organisation.id, user_id=user.id, role=role.value, created_at=now
            )
        )
        session.flush()
    record(
        session=session,
        organisation_id=organisation.id,
        actor=actor,
        action="membership.added",
        target_type="user",
        target_id=user.id,
        details={"role": role.value},
        occurred_at=now,
    )
    return user, created


def membership(*, session: Session, user_id: int, organisation_id: int) -> Membership | None:
    with acting_for(session, organisation_id):
        return session.scalars(
            select(Membership).where(
                Membership.user_id == user_id, Membership.organisation_id == organisation_id
            )
        ).one_or_none()


def members(*, session: Session, organisation_id: int) -> list[Membership]:
    """The organisation's memberships with their users, owners first."""
    order = {role.value: index for index, role in enumerate(Role)}
    with acting_for(session, organisation_id):
        rows = session.scalars(
            select(Membership)
            .where(Membership.organisation_id == organisation_id)
            .options(selectinload(Membership.user))
            .order_by(Membership.id)
        ).all()
    return sorted(rows, key=lambda m: (order.get(m.role, 99), m.id))


@dataclass(frozen=True)
class OrganisationAccess:
    organisation: Organisation
    role: Role


def organisations_of(*, session: Session, user_id: int) -> list[OrganisationAccess]:
    """Every organisation the user belongs to, by name: what the organisation switcher offers."""
    with across_organisations(session):
        rows = session.execute(
            select(Organisation, Membership.role)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.user_id == user_id)
            .order_by(Organisation.name)
        ).all()
    return [OrganisationAccess(organisation, Role(role)) for organisation, role in rows]


def _owners(session: Session, organisation_id: int) -> int:
    with acting_for(session, organisation_id):
        return int(
            session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(
                    Membership.organisation_id == organisation_id,
                    Membership.role == Role.OWNER.value,
                )
            )
            or 0
        )


def change_role(
    *,
    session: Session,
    organisation_id: int,
    user_id: int,
    role: Role,
    actor: Actor,
    now: datetime | None = None,
) -> Membership:
    found = membership(session=session, user_id=user_id, organisation_id=organisation_id)
    if found is None:
        raise NotMember()
    demoting_owner = found.role == Role.OWNER.value and role is not Role.OWNER
    if demoting_owner and _owners(session, organisation_id) <= 1:
        raise LastOwner()
    previous = found.role
    found.role = role.value
    session.flush()
    record(
        session=session,
        organisation_id=organisation_id,
        actor=actor,
        action="membership.changed",
        target_type="user",
        target_id=user_id,
        details={"from": previous, "to": role.value},
        occurred_at=now,
    )
    return found


def remove_membership(
    *,
    session: Session,
    organisation_id: int,
    user_id: int,
    actor: Actor,
    now: datetime | None = None,
) -> None:
    found = membership(session=session, user_id=user_id, organisation_id=organisation_id)
    if found is None:
        raise NotMember()
    if found.role == Role.OWNER.value and _owners(session, organisation_id) <= 1:
        raise LastOwner()
    role = found.role
    with acting_for(session, organisation_id):
        session.delete(found)
        session.flush()
    record(
        session=session,
        organisation_id=organisation_id,
        actor=actor,
        action="membership.removed",
        target_type="user",
        target_id=user_id,
        details={"role": role},
        occurred_at=now,
    )


def disable_user(*, session: Session, user: User, actor: Actor, now: datetime | None = None) -> int:
    """The user can no longer sign in; every session ends. Returns the sessions ended."""
    now = now or utcnow()
    user.disabled = True
    ended = sessions.end_all(session=session, user_id=user.id, now=now)
    session.execute(
        update(SignInLink)
        .where(SignInLink.user_id == user.id, SignInLink.used_at.is_(None))
        .values(used_at=now)
    )
    session.flush()
    record(
        session=session,
        organisation_id=None,
        actor=actor,
        action="user.disabled",
        target_type="user",
        target_id=user.id,
        details={"sessions_ended": ended},
        occurred_at=now,
    )
    return ended


# --- one-time sign-in links -----------------------------------------------------------------


def issue_sign_in_link(
    *, session: Session, user: User, actor: Actor, now: datetime | None = None
) -> str:
    """A new one-time link token (24 hours); every earlier unused link of the user stops working."""
    now = now or utcnow()
    if user.disabled:
        raise LinkInvalid()
    session.execute(
        update(SignInLink)
        .where(SignInLink.user_id == user.id, SignInLink.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        SignInLink(
            user_id=user.id,
            token_hash=sessions.token_hash(token),
            created_at=now,
            expires_at=now + SIGN_IN_LINK_LIFETIME,
        )
    )
    session.flush()
    record(
        session=session,
        organisation_id=None,
        actor=actor,
        action="user.sign_in_link_issued",
        target_type="user",
        target_id=user.id,
        occurred_at=now,
    )
    return token


def open_sign_in_link(*, session: Session, token: str, now: datetime | None = None) -> SignInLink:
    """The usable link of this token, with the TOTP secret its page offers; else LinkInvalid."""
    now = now or utcnow()
    if not token or len(token) > 100:
        raise LinkInvalid()
    link = session.scalars(
        select(SignInLink).where(SignInLink.token_hash == sessions.token_hash(token))
    ).one_or_none()
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise LinkInvalid()
    user = session.get(User, link.user_id)
    if user is None or user.disabled:
        raise LinkInvalid()
    if link.pending_totp_secret is None:
        link.pending_totp_secret = totp.new_secret()
        session.flush()
    return link


def complete_sign_in_link(
    *,
    session: Session,
    token: str,
    password: str,
    code: str,
    now: datetime | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[User, list[str]]:
    """Set the password and the TOTP secret the code proves, use up the link, end the user's
    other sessions, and return the ten new recovery codes (shown once)."""
    now = now or utcnow()
    link = open_sign_in_link(session=session, token=token, now=now)
    user = session.get(User, link.user_id)
    assert user is not None and link.pending_totp_secret is not None
    try:
        passwords.check_new_password(password, email=user.email)
    except passwords.WeakPassword as weak:
        raise EnrolmentRefused(weak.reason) from None
    step = totp.matching_step(link.pending_totp_secret, code, now=now, last_step=None)
    if step is None:
        raise EnrolmentRefused(
            N_(
                "The code is not right. Check that the app shows jagadata and type the 6 digits "
                "it shows now."
            )
        )
    first_enrolment = user.mfa_enrolled_at is None
    user.password_hash = passwords.hash_password(password)
    user.totp_secret = link.pending_totp_secret
    user.totp_last_step = step
    user.mfa_enrolled_at = now
    link.used_at = now
    link.pending_totp_secret = None
    sessions.end_all(session=session, user_id=user.id, now=now)
    codes = replace_recovery_codes(session=session, user=user, now=now)
    record(
        session=session,
        organisation_id=None,
        actor=Actor.user(user.id),
        action="user.mfa_enrolled",
        target_type="user",
        target_id=user.id,
        ip=ip,
        user_agent=user_agent,
        details={"first_time": first_enrolment, "recovery_codes": len(codes)},
        occurred_at=now,
    )
    return user, codes


# --- recovery codes -------------------------------------------------------------------------


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def recovery_code_hash(user_id: int, code: str) -> str:
    return get_keyring().lookup_hash("recovery_code", f"{user_id}:{normalise_recovery_code(code)}")


def replace_recovery_codes(*, session: Session, user: User, now: datetime) -> list[str]:
    """Ten new codes (the old ones stop working), e.g. 'k7m2p-q9xat'."""
    for old in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(old)
    session.flush()
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(
            RecoveryCode(
                user_id=user.id, code_hash=recovery_code_hash(user.id, raw), created_at=now
            )
        )
    session.flush()
    return codes


def use_recovery_code(*, session: Session, user: User, code: str, now: datetime) -> int | None:
    """Use up the code if it is one of the user's unused ones; returns how many are left."""
    if len(normalise_recovery_code(code)) != 10:
        return None
    found = session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == recovery_code_hash(user.id, code),
            RecoveryCode.used_at.is_(None),
        )
    ).one_or_none()
    if found is None:
        return None
    found.used_at = now
    session.flush()
    return int(
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )
