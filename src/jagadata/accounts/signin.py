"""Signing in: email and password, then a TOTP or recovery code, under rate limits.

An unknown email, a disabled account and a wrong password give the same answer after the same
work (a dummy hash is checked), and are counted against the same keys, so nobody learns from
the sign-in page whether an account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from jagadata.accounts import passwords, ratelimit, service, sessions, totp
from jagadata.accounts.models import User, UserSession
from jagadata.audit.service import Actor, record
from jagadata.db.base import utcnow
from jagadata.identities import InvalidIdentity, normalise_email

ACCOUNT_SCOPE = "sign_in.account"
ADDRESS_SCOPE = "sign_in.address"
SECOND_FACTOR_SCOPE = "sign_in.second_factor"


@dataclass(frozen=True)
class Client:
    """Where a request came from, for the audit trail and the per-address limit."""

    ip: str | None = None
    user_agent: str | None = None

    @property
    def address_key(self) -> str:
        return self.ip or "unknown"


def _account_key(email: str) -> str:
    try:
        return normalise_email(email)
    except InvalidIdentity:
        return email.strip().casefold()[:320]


def check_password(
    *,
    session: Session,
    email: str,
    password: str,
    timeouts: sessions.Timeouts,
    client: Client,
    now: datetime | None = None,
) -> tuple[UserSession, str] | None:
    """A session awaiting the second factor and its token, or None for any failure.

    Raises ratelimit.Limited while the account or the address is locked. The caller commits
    either way: failures are counted and audited.
    """
    now = now or utcnow()
    account = _account_key(email)
    ratelimit.check(session=session, scope=ACCOUNT_SCOPE, key=account, now=now)
    ratelimit.check(session=session, scope=ADDRESS_SCOPE, key=client.address_key, now=now)
    user: User | None = None
    try:
        user = service.find_user(session=session, email=account)
    except InvalidIdentity:
        user = None
    matches, new_hash = passwords.verify_password(
        user.password_hash if user is not None else None, password
    )
    if user is None or not matches or not user.can_sign_in:
        _failed(session, account, user, client, now, stage="password")
        return None
    if new_hash is not None:
        user.password_hash = new_hash
    return sessions.start(
        session=session,
        user=user,
        stage=sessions.AWAITING_SECOND_FACTOR,
        timeouts=timeouts,
        now=now,
        ip=client.ip,
        user_agent=client.user_agent,
    )


def check_second_factor(
    *,
    session: Session,
    pending: UserSession,
    code: str,
    timeouts: sessions.Timeouts,
    client: Client,
    now: datetime | None = None,
) -> str | None:
    """The active session's new token if `code` is the current TOTP code or an unused recovery
    code; None otherwise (the failure that starts a lockout also ends `pending`). Raises
    ratelimit.Limited, changing nothing, while the account is locked."""
    now = now or utcnow()
    user = pending.user
    key = str(user.id)
    ratelimit.check(session=session, scope=SECOND_FACTOR_SCOPE, key=key, now=now)
    method = None
    remaining = None
    if user.totp_secret is not None:
        step = totp.matching_step(user.totp_secret, code, now=now, last_step=user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            method = "totp"
    if method is None:
        remaining = service.use_recovery_code(session=session, user=user, code=code, now=now)
        if remaining is not None:
            method = "recovery_code"
    if method is None:
        _failed(session, user.email, user, client, now, stage="second_factor")
        locked = ratelimit.record_failure(
            session=session, scope=SECOND_FACTOR_SCOPE, key=key, policy=ratelimit.SECOND_FACTOR,
            now=now,
        )  # fmt: skip
        if locked is not None:
            sessions.end(session=session, user_session=pending, now=now)
        return None
    token = sessions.promote(session=session, user_session=pending, timeouts=timeouts, now=now)
    user.last_sign_in_at = now
    ratelimit.reset(session=session, scope=ACCOUNT_SCOPE, key=_account_key(user.email))
    ratelimit.reset(session=session, scope=SECOND_FACTOR_SCOPE, key=key)
    details: dict[str, object] = {"method": method, "session": pending.id}
    if remaining is not None:
        details["recovery_codes_left"] = remaining
    record(
        session=session,
        organisation_id=None,
        actor=Actor.user(user.id),
        action="user.signed_in",
        target_type="user",
        target_id=user.id,
        ip=client.ip,
        user_agent=client.user_agent,
        details=details,
        occurred_at=now,
    )
    return token


def _failed(
    session: Session,
    account: str,
    user: User | None,
    client: Client,
    now: datetime,
    *,
    stage: str,
) -> None:
    if stage == "password":
        ratelimit.record_failure(
            session=session, scope=ACCOUNT_SCOPE, key=account, policy=ratelimit.SIGN_IN_ACCOUNT,
            now=now,
        )  # fmt: skip
        ratelimit.record_failure(
            session=session, scope=ADDRESS_SCOPE, key=client.address_key,
            policy=ratelimit.SIGN_IN_ADDRESS, now=now,
        )  # fmt: skip
    subject_ref = None
    if user is None:
        try:
            subject_ref = service.email_hash(account)
        except InvalidIdentity:
            subject_ref = None
    record(
        session=session,
        organisation_id=None,
        actor=Actor.user(user.id) if user is not None else Actor.system("sign-in"),
        action="user.sign_in_failed",
        target_type="user" if user is not None else None,
        target_id=user.id if user is not None else None,
        subject_ref=subject_ref,
        ip=client.ip,
        user_agent=client.user_agent,
        details={"stage": stage},
        occurred_at=now,
    )


def sign_out(
    *, session: Session, user_session: UserSession, client: Client, now: datetime | None = None
) -> None:
    now = now or utcnow()
    sessions.end(session=session, user_session=user_session, now=now)
    record(
        session=session,
        organisation_id=None,
        actor=Actor.user(user_session.user_id),
        action="user.signed_out",
        target_type="user",
        target_id=user_session.user_id,
        ip=client.ip,
        user_agent=client.user_agent,
        occurred_at=now,
    )


def sign_out_everywhere(
    *, session: Session, user: User, client: Client, now: datetime | None = None
) -> int:
    now = now or utcnow()
    ended = sessions.end_all(session=session, user_id=user.id, now=now)
    record(
        session=session,
        organisation_id=None,
        actor=Actor.user(user.id),
        action="user.signed_out_everywhere",
        target_type="user",
        target_id=user.id,
        ip=client.ip,
        user_agent=client.user_agent,
        details={"sessions_ended": ended},
        occurred_at=now,
    )
    return ended
