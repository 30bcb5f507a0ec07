"""Signed webhooks: POST the event as JSON, signed with the receiver's shared secret.

Headers: X-Jagadata-Event (the event name), X-Jagadata-Delivery (stable across retries: drop
repeats by it), X-Jagadata-Timestamp (Unix seconds of this attempt) and X-Jagadata-Signature,
`sha256=` + the hex HMAC-SHA256 of "<timestamp>.<raw body>" under the secret. A receiver checks
it with `verify_signature` (or the same few lines in its own language) before trusting the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Final

import httpx

from jagadata.notify.channels import TemporaryFailure

WEBHOOK_TIMEOUT_SECONDS: Final = 15.0
TOLERANCE_SECONDS: Final = 300
"""A receiver refuses a signature older (or newer) than this: a replayed request is stale."""
SIGNATURE_PREFIX: Final = "sha256="


def webhook_body(payload: Any) -> bytes:
    """The payload as the exact bytes sent (and signed): compact UTF-8 JSON, keys sorted."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def verify_signature(
    *,
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """True when `signature` is the secret's signature of this body at a recent `timestamp`.

    ok = verify_signature(secret=SECRET, body=request_body,
                          timestamp=headers["X-Jagadata-Timestamp"],
                          signature=headers["X-Jagadata-Signature"])
    """
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        return False
    return hmac.compare_digest(sign(secret=secret, timestamp=sent_at, body=body), signature)


def send_webhook(
    *,
    url: str,
    event: str,
    delivery_id: str,
    body: bytes,
    secret: str,
    client: httpx.Client | None = None,
    timestamp: int | None = None,
) -> str:
    """POST one delivery; returns the HTTP status as the provider reference. Non-2xx is retried."""
    stamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "jagadata-webhooks",
        "X-Jagadata-Event": event,
        "X-Jagadata-Delivery": delivery_id,
        "X-Jagadata-Timestamp": str(stamp),
        "X-Jagadata-Signature": sign(secret=secret, timestamp=stamp, body=body),
    }
    own_client = client is None
    http = client or httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False)
    try:
        response = http.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        raise TemporaryFailure(f"webhook {error.__class__.__name__}") from None
    finally:
        if own_client:
            http.close()
    if not response.is_success:
        raise TemporaryFailure(f"webhook answered HTTP {response.status_code}")
    return f"HTTP {response.status_code}"
