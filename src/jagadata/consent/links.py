"""Signed links sent to people: confirm an opt-in (single-use, expiring) or withdraw consent
(any time, Art. 9). A token is `nonce.signature`, the signature an HMAC of the organisation,
the link's kind and the nonce under the deployment's lookup key, so a forged or mistyped token is
refused before any lookup; only the SHA-256 of a token is stored."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.consent.optin_models import ConsentLink, LinkKind
from jagadata.crypto import get_keyring
from jagadata.db.tenancy import acting_for

TOKEN_PATTERN: Final = r"^[A-Za-z0-9_-]{32}\.[0-9a-f]{32}$"
_TOKEN: Final = re.compile(TOKEN_PATTERN)


def _signature(slug: str, kind: LinkKind, nonce: str) -> str:
    return get_keyring().lookup_hash(f"consent.link.{kind.value}", f"{slug}:{nonce}")[:32]


def new_token(slug: str, kind: LinkKind) -> str:
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_signature(slug, kind, nonce)}"


def signed(slug: str, kind: LinkKind, token: str) -> bool:
    """Whether `token` was made by this deployment for this organisation and kind of link."""
    if not _TOKEN.match(token):
        return False
    nonce, signature = token.split(".")
    return hmac.compare_digest(signature, _signature(slug, kind, nonce))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue(
    *,
    session: Session,
    organisation_id: int,
    slug: str,
    kind: LinkKind,
    subject_ref: str,
    purposes: list[str],
    language: str,
    now: datetime,
    expires_at: datetime | None = None,
    optin_id: int | None = None,
) -> str:
    """Store a new link (its token's hash) in the caller's transaction; return the token."""
    token = new_token(slug, kind)
    with acting_for(session, organisation_id):
        session.add(
            ConsentLink(
                organisation_id=organisation_id,
                token_hash=token_digest(token),
                kind=kind.value,
                optin_id=optin_id,
                subject_ref=subject_ref,
                purposes=purposes,
                language=language,
                created_at=now,
                expires_at=expires_at,
            )
        )
        session.flush()
    return token


def find(
    *, session: Session, organisation_id: int, slug: str, kind: LinkKind, token: str
) -> ConsentLink | None:
    """The link this token opens, or None (not signed for this organisation, or unknown)."""
    if not signed(slug, kind, token):
        return None
    with acting_for(session, organisation_id):
        return session.scalars(
            select(ConsentLink).where(
                ConsentLink.organisation_id == organisation_id,
                ConsentLink.token_hash == token_digest(token),
                ConsentLink.kind == kind.value,
            )
        ).one_or_none()


def page_url(base_url: str, slug: str, kind: LinkKind, token: str) -> str:
    """Where the person lands: /o/{org}/confirm/{token} or /o/{org}/unsubscribe/{token}."""
    path = "confirm" if kind is LinkKind.CONFIRM else "unsubscribe"
    return f"{base_url.rstrip('/')}/o/{slug}/{path}/{token}"


def one_click_url(base_url: str, slug: str, token: str) -> str:
    """The RFC 8058 one-click target (under /api/: a mail client posts without a CSRF token;
    the signed token is the authentication)."""
    return f"{base_url.rstrip('/')}/api/v1/orgs/{slug}/consent/unsubscribe/{token}"
