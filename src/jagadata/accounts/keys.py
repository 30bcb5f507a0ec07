"""API keys: `jd_<prefix>_<secret>`, where the prefix finds the key and the secret (256 random
bits) proves it. Only the secret's SHA-256 is stored; the whole key is shown once.

`verified` answers from a short-lived in-process cache: a key proven within the last
`VERIFIED_KEY_SECONDS` is not looked up again (the hot path of the consent check, benchmark B4).
The cache is keyed by a keyed BLAKE2b of the presented token under a per-process random key, so
it holds no token and nothing an attacker could replay elsewhere. Revoking a key forgets it at
once in the process that revoked it; any other process (another worker, the CLI) stops
accepting it within `VERIFIED_KEY_SECONDS`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import URL, event, select
from sqlalchemy.orm import Session

from jagadata.accounts.models import ApiKey
from jagadata.audit.service import Actor, record
from jagadata.db.base import utcnow
from jagadata.db.tenancy import across_organisations, acting_for
from jagadata.i18n import N_
from jagadata.orgs.models import Organisation

KEY_PATTERN: Final = re.compile(r"^jd_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
LAST_USED_PRECISION_SECONDS: Final = 60
"""`last_used_at` is written at most once a minute per key, not on every request."""
VERIFIED_KEY_SECONDS: Final = 5.0
"""How long a proven key is trusted without looking at the database again (see `verified`)."""
VERIFIED_KEY_LIMIT: Final = 10_000


class Scope(StrEnum):
    POLICY_READ = "policy:read"
    CONSENT_READ = "consent:read"
    CONSENT_WRITE = "consent:write"
    REQUESTS_READ = "requests:read"
    REQUESTS_WRITE = "requests:write"
    AUDIT_READ = "audit:read"


SCOPE_LABELS: Final = {
    Scope.POLICY_READ: N_("Read the published policy and its versions"),
    Scope.CONSENT_READ: N_("Read consent records"),
    Scope.CONSENT_WRITE: N_("Record consent given or withdrawn"),
    Scope.REQUESTS_READ: N_("Read data subject requests"),
    Scope.REQUESTS_WRITE: N_("Create and update data subject requests"),
    Scope.AUDIT_READ: N_("Read and export the audit log"),
}


@dataclass(frozen=True)
class NewKey:
    prefix: str
    secret: str

    @property
    def token(self) -> str:
        return f"jd_{self.prefix}_{self.secret}"

    @property
    def secret_hash(self) -> str:
        return secret_hash(self.secret)


def generate() -> NewKey:
    """A key whose 12-character prefix always holds a letter: an all-digit prefix would read
    as a phone number to the audit trail's personal-data guard (and to people)."""
    prefix = secrets.token_hex(6)
    while prefix.isdigit():
        prefix = secrets.token_hex(6)
    return NewKey(prefix=prefix, secret=secrets.token_urlsafe(32))


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def parse(token: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None."""
    found = KEY_PATTERN.match(token.strip())
    return (found.group(1), found.group(2)) if found else None


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)


def parse_scopes(values: list[str] | tuple[str, ...]) -> list[str]:
    """The scopes, validated and in a stable order; raises ValueError naming an unknown one."""
    chosen = set()
    for value in values:
        for part in value.replace(",", " ").split():
            chosen.add(Scope(part.strip()).value)
    return sorted(chosen)


class KeyNotFound(Exception):
    """No key with this id in the organisation (or it belongs to another one)."""


def create_key(
    *,
    session: Session,
    organisation_id: int,
    name: str,
    scopes: list[str] | tuple[str, ...],
    actor: Actor,
    created_by: int | None = None,
    now: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its token: the token is returned here once and stored nowhere."""
    now = now or utcnow()
    chosen = parse_scopes(list(scopes))
    name = " ".join(name.split())[:100]
    if not name or not chosen:
        raise ValueError("a key needs a name and at least one scope")
    new = generate()
    while _prefix_taken(session, new.prefix):
        new = generate()
    key = ApiKey(
        organisation_id=organisation_id,
        prefix=new.prefix,
        secret_hash=new.secret_hash,
        name=name,
        scopes=chosen,
        created_at=now,
        created_by=created_by,
    )
    with acting_for(session, organisation_id):
        session.add(key)
        session.flush()
    record(
        session=session,
        organisation_id=organisation_id,
        actor=actor,
        action="api_key.created",
        target_type="api_key",
        target_id=key.id,
        details={"prefix": key.prefix, "scopes": chosen},
        occurred_at=now,
    )
    return key, new.token


def _prefix_taken(session: Session, prefix: str) -> bool:
    with across_organisations(session):
        return session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is not None


def list_keys(*, session: Session, organisation_id: int) -> list[ApiKey]:
    """The organisation's keys, newest first, revoked ones included (they stay as evidence)."""
    with acting_for(session, organisation_id):
        return list(
            session.scalars(
                select(ApiKey)
                .where(ApiKey.organisation_id == organisation_id)
                .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
            )
        )


def revoke_key(
    *,
    session: Session,
    organisation_id: int,
    key_id: int,
    actor: Actor,
    now: datetime | None = None,
) -> ApiKey:
    now = now or utcnow()
    with acting_for(session, organisation_id):
        key = session.scalars(
            select(ApiKey).where(ApiKey.id == key_id, ApiKey.organisation_id == organisation_id)
        ).one_or_none()
        if key is None:
            raise KeyNotFound(key_id)
        if key.revoked_at is None:
            revoked_id = key.id
            forget_verified(revoked_id)  # and again once revoked for good, see `verified`
            event.listen(session, "after_commit", lambda _s: forget_verified(revoked_id), once=True)
            key.revoked_at = now
            session.flush()
            record(
                session=session,
                organisation_id=organisation_id,
                actor=actor,
                action="api_key.revoked",
                target_type="api_key",
                target_id=key.id,
                details={"prefix": key.prefix},
                occurred_at=now,
            )
    return key


def authenticate(*, session: Session, token: str, now: datetime | None = None) -> ApiKey | None:
    """The live key this token proves, its last-used time brought up to date; else None.

    Looked up by prefix across organisations (the key says which organisation it is for).
    """
    now = now or utcnow()
    parsed = parse(token)
    if parsed is None:
        secret_matches("0" * 43, "0" * 64)  # similar work for malformed and unknown keys
        return None
    prefix, secret = parsed
    with across_organisations(session):
        key = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one_or_none()
        if key is None:
            secret_matches(secret, "0" * 64)
            return None
        if not secret_matches(secret, key.secret_hash) or key.revoked_at is not None:
            return None
        if key.last_used_at is None or now - key.last_used_at >= timedelta(
            seconds=LAST_USED_PRECISION_SECONDS
        ):
            key.last_used_at = now
            session.flush()
    return key


# --- verified keys, cached briefly ----------------------------------------------------------


@dataclass(frozen=True)
class VerifiedKey:
    """What a request needs of a live key, without a database row attached to a session."""

    id: int
    organisation_id: int
    organisation_slug: str
    name: str
    scopes: frozenset[str]
    last_used_at: datetime | None


_cache_secret: Final = secrets.token_bytes(32)
_cache_lock: Final = threading.Lock()
_cache: dict[tuple[URL, bytes], tuple[VerifiedKey, float]] = {}


def _cache_key(session: Session, token: str) -> tuple[URL, bytes]:
    """The database (a process may serve several) and a keyed hash of the token."""
    digest = hashlib.blake2b(
        token.encode("utf-8", "replace"), key=_cache_secret, digest_size=32
    ).digest()
    return session.get_bind().engine.url, digest


def verified(*, session: Session, token: str, now: datetime | None = None) -> VerifiedKey | None:
    """The live key this token proves, from the cache when it was proven in the last
    `VERIFIED_KEY_SECONDS`, else from the database like `authenticate` (whose last-used write
    the caller commits). A cached answer is never older than the last-used precision allows:
    when `last_used_at` is due, the database is asked again and it is written."""
    now = now or utcnow()
    cache_key = _cache_key(session, token)
    found = _cache.get(cache_key)
    if found is not None:
        entry, expires = found
        fresh = entry.last_used_at is not None and now - entry.last_used_at < timedelta(
            seconds=LAST_USED_PRECISION_SECONDS
        )
        if fresh and time.monotonic() < expires:
            return entry
    key = authenticate(session=session, token=token, now=now)
    if key is None:
        with _cache_lock:
            _cache.pop(cache_key, None)
        return None
    with across_organisations(session):
        organisation = session.get(Organisation, key.organisation_id)
    assert organisation is not None  # a foreign key
    entry = VerifiedKey(
        id=key.id,
        organisation_id=key.organisation_id,
        organisation_slug=organisation.slug,
        name=key.name,
        scopes=frozenset(key.scopes),
        last_used_at=key.last_used_at,
    )
    with _cache_lock:
        if len(_cache) >= VERIFIED_KEY_LIMIT:
            _cache.clear()
        _cache[cache_key] = (entry, time.monotonic() + VERIFIED_KEY_SECONDS)
    return entry


def forget_verified(key_id: int | None = None) -> None:
    """Drop a key (or every key) from this process's cache of verified keys."""
    with _cache_lock:
        if key_id is None:
            _cache.clear()
            return
        for cache_key in [k for k, (entry, _) in _cache.items() if entry.id == key_id]:
            del _cache[cache_key]
