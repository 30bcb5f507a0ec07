"""Each organisation's Ed25519 keys for receipts, and compact JWS (RFC 7515) with EdDSA (RFC 8037).

The private key is stored encrypted (`EncryptedText`); its `kid` is the RFC 7638 thumbprint of
its public JWK. Rotating makes a new key the signing one; retired keys stay in the JWKS so
receipts signed with them still verify. Verification needs only the JWS and a JWKS (or the
public key itself): it runs offline, with `cryptography` alone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.consent.ledger import lock_head
from jagadata.consent.models import SigningKey
from jagadata.db.base import utcnow
from jagadata.db.tenancy import acting_for

ALGORITHM: Final = "EdDSA"
TYPE: Final = "JWT"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def unb64url(text: str) -> bytes:
    if not text or any(c not in _B64URL for c in text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def public_jwk(public_key: str, kid: str | None = None) -> dict[str, str]:
    """The OKP JWK of an Ed25519 public key given as base64url."""
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": public_key}
    if kid is not None:
        jwk |= {"kid": kid, "use": "sig", "alg": ALGORITHM}
    return jwk


def thumbprint(public_key: str) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url) of the public JWK: the key's `kid`."""
    canonical = json.dumps(public_jwk(public_key), sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def create_key(
    *, session: Session, organisation_id: int, now: datetime | None = None
) -> SigningKey:
    """A new signing key for the organisation, in the caller's transaction."""
    private = Ed25519PrivateKey.generate()
    raw_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = b64url(raw_public)
    key = SigningKey(
        organisation_id=organisation_id,
        kid=thumbprint(public),
        public_key=public,
        private_key=b64url(raw_private),
        created_at=now or utcnow(),
        retired_at=None,
    )
    with acting_for(session, organisation_id):
        session.add(key)
        session.flush()
    return key


def signing_key(
    *, session: Session, organisation_id: int, now: datetime | None = None
) -> SigningKey:
    """The organisation's current signing key, created on first use.

    Call it while the organisation's consent chain is locked, so two writers never both create one.
    """
    with acting_for(session, organisation_id):
        key = session.scalars(
            select(SigningKey)
            .where(SigningKey.organisation_id == organisation_id, SigningKey.retired_at.is_(None))
            .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
            .limit(1)
        ).first()
    return key or create_key(session=session, organisation_id=organisation_id, now=now)


def rotate_key(
    *, session: Session, organisation_id: int, now: datetime | None = None
) -> SigningKey:
    """Retire every signing key of the organisation and create a new one (old ones stay public)."""
    now = now or utcnow()
    lock_head(session, organisation_id)
    with acting_for(session, organisation_id):
        for key in session.scalars(
            select(SigningKey).where(
                SigningKey.organisation_id == organisation_id, SigningKey.retired_at.is_(None)
            )
        ):
            key.retired_at = now
        session.flush()
    return create_key(session=session, organisation_id=organisation_id, now=now)


def published_keys(*, session: Session, organisation_id: int) -> list[SigningKey]:
    """Every key the organisation ever signed with, newest first."""
    with acting_for(session, organisation_id):
        return list(
            session.scalars(
                select(SigningKey)
                .where(SigningKey.organisation_id == organisation_id)
                .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
            )
        )


def jwks(keys: Sequence[SigningKey]) -> dict[str, list[dict[str, str]]]:
    return {"keys": [public_jwk(key.public_key, key.kid) for key in keys]}


def key_by_kid(*, session: Session, organisation_id: int, kid: str) -> SigningKey | None:
    with acting_for(session, organisation_id):
        return session.scalars(
            select(SigningKey).where(
                SigningKey.organisation_id == organisation_id, SigningKey.kid == kid
            )
        ).one_or_none()


@lru_cache(maxsize=256)
def _private(kid: str, encoded: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(unb64url(encoded))


def sign(payload: Mapping[str, Any], key: SigningKey) -> str:
    """Compact JWS of `payload` (JSON, sorted keys): header.payload.signature, base64url."""
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": TYPE}
    signing_input = ".".join(
        b64url(
            json.dumps(part, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
                "utf-8"
            )
        )
        for part in (header, payload)
    )
    signature = _private(key.kid, key.private_key).sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"


class InvalidReceipt(ValueError):
    """The JWS is malformed, its key unknown, or its signature does not match its contents."""


@dataclass(frozen=True)
class Verified:
    header: dict[str, Any]
    payload: dict[str, Any]
    kid: str


def _part(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(unb64url(text))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidReceipt(f"the {what} is not base64url-encoded JSON") from None
    if not isinstance(value, dict):
        raise InvalidReceipt(f"the {what} is not a JSON object")
    return value


def verify(token: str, keys: Mapping[str, str]) -> Verified:
    """Check a compact JWS against public keys by `kid` (base64url Ed25519); raise InvalidReceipt
    saying why it fails."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise InvalidReceipt("a compact JWS has three parts separated by dots")
    header = _part(parts[0], "header")
    payload = _part(parts[1], "payload")
    if header.get("alg") != ALGORITHM:
        raise InvalidReceipt(f"the algorithm must be EdDSA, not {header.get('alg')!r}")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        raise InvalidReceipt(f"the signing key {kid!r} is not among the published keys")
    try:
        signature = unb64url(parts[2])
        public = Ed25519PublicKey.from_public_bytes(unb64url(keys[kid]))
        public.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except (ValueError, binascii.Error):
        raise InvalidReceipt("the signature or the key is not valid base64url") from None
    except InvalidSignature:
        raise InvalidReceipt("the signature does not match the receipt: it was altered") from None
    return Verified(header, payload, kid)


def keys_of_jwks(document: Any) -> dict[str, str]:
    """Ed25519 public keys by `kid` from a JWKS document; others are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise InvalidReceipt("the key set is not a JWKS: an object with a 'keys' list")
    found = {}
    for jwk in document["keys"]:
        if (
            isinstance(jwk, dict)
            and jwk.get("kty") == "OKP"
            and jwk.get("crv") == "Ed25519"
            and isinstance(jwk.get("x"), str)
        ):
            found[str(jwk.get("kid") or thumbprint(jwk["x"]))] = jwk["x"]
    return found
