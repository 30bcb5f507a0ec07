"""WhatsApp Cloud API: text and template messages from the configured business phone number.

POST {whatsapp_api_url}/{phone_number_id}/messages with a bearer token; the answer names the
message (`wamid...`), kept as the outbox row's provider reference. A 4xx answer means the
request itself is refused (permanent) unless it says to slow down; 429, 5xx and timeouts are
tried again later.
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from jagadata.config import Settings
from jagadata.notify.channels import PermanentFailure, TemporaryFailure

WHATSAPP_TIMEOUT_SECONDS: Final = 20.0
THROTTLING_CODES: Final = frozenset({4, 80007, 130429, 131048, 131056})
"""Graph API error codes meaning "too many messages, slow down", whatever the HTTP status."""
MAX_TEXT_LENGTH: Final = 4096


def text_message(*, to: str, text: str) -> dict[str, Any]:
    """The request body of a text message; `to` is E.164 (the leading + is dropped)."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.lstrip("+"),
        "type": "text",
        "text": {"preview_url": False, "body": text},
    }


def template_message(
    *, to: str, template: str, language: str, parameters: list[str]
) -> dict[str, Any]:
    """A pre-approved template (the only kind WhatsApp delivers outside a 24-hour conversation);
    `parameters` fill its body's {{1}}, {{2}}... in order."""
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.lstrip("+"),
        "type": "template",
        "template": {"name": template, "language": {"code": language}},
    }
    if parameters:
        body["template"]["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}
        ]
    return body


def send_whatsapp(
    body: dict[str, Any], *, settings: Settings, client: httpx.Client | None = None
) -> str:
    """Send one message; returns its WhatsApp message id, or raises Temporary/PermanentFailure."""
    if not settings.whatsapp_token or not settings.whatsapp_phone_number_id:
        raise TemporaryFailure(
            "WhatsApp is not configured: set JAGADATA_WHATSAPP_TOKEN and "
            "JAGADATA_WHATSAPP_PHONE_NUMBER_ID"
        )
    url = f"{settings.whatsapp_api_url.rstrip('/')}/{settings.whatsapp_phone_number_id}/messages"
    headers = {"Authorization": f"Bearer {settings.whatsapp_token}"}
    own_client = client is None
    http = client or httpx.Client(timeout=WHATSAPP_TIMEOUT_SECONDS)
    try:
        response = http.post(url, json=body, headers=headers)
    except httpx.HTTPError as error:
        raise TemporaryFailure(f"WhatsApp {error.__class__.__name__}") from None
    finally:
        if own_client:
            http.close()
    if response.is_success:
        return _message_id(response)
    raise _failure(response)


def _message_id(response: httpx.Response) -> str:
    try:
        message_id = response.json()["messages"][0]["id"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise TemporaryFailure(
            f"WhatsApp {response.status_code}: the answer names no message id"
        ) from None
    return str(message_id)


def _failure(response: httpx.Response) -> TemporaryFailure | PermanentFailure:
    status = response.status_code
    try:
        error = response.json()["error"]
        code = int(error.get("code", 0))
        reason = (
            f"WhatsApp {status} (code {code}, {error.get('type', '?')}): {error.get('message', '')}"
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        code, reason = 0, f"WhatsApp {status}: {response.reason_phrase}"
    if status == 429 or status >= 500 or code in THROTTLING_CODES or not 400 <= status < 500:
        return TemporaryFailure(reason)
    return PermanentFailure(reason)
