"""Email over SMTP (smtplib): STARTTLS, TLS or plain as configured, multipart text and HTML.

The Message-ID is fixed when the message enters the outbox, so a message sent twice (a worker
died before recording success) reaches the receiver twice with the same Message-ID.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Mapping
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr
from typing import Final

from jagadata.config import Settings
from jagadata.notify.channels import PermanentFailure, TemporaryFailure

SMTP_TIMEOUT_SECONDS: Final = 30.0
EXTRA_HEADERS: Final = frozenset({"list-unsubscribe", "list-unsubscribe-post", "list-id"})
"""Headers a message may add to those build_email writes itself."""


def new_message_id(settings: Settings) -> str:
    """An RFC 5322 Message-ID, `<uuid@domain of the sender>`."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "jagadata.invalid"
    return f"<{uuid.uuid4().hex}@{domain}>"


def build_email(
    *,
    settings: Settings,
    message_id: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    lang: str,
    date: datetime,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """The message exactly as every attempt sends it (same Message-ID, same Date); `headers`
    adds extra ones such as List-Unsubscribe (RFC 2369) and List-Unsubscribe-Post (RFC 8058)."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(date)
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        if name.lower() not in EXTRA_HEADERS:
            raise ValueError(f"{name} is not a header a message may add")
        message[name] = value
    message.set_content(text, charset="utf-8")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8")
    message["Content-Language"] = lang  # after the content: setting it clears Content-* headers
    return message


def send_email(
    message: EmailMessage, *, settings: Settings, timeout: float = SMTP_TIMEOUT_SECONDS
) -> None:
    """Hand `message` to the configured SMTP server, or raise Temporary/PermanentFailure."""
    if not settings.smtp_host:
        raise TemporaryFailure("SMTP is not configured: set JAGADATA_SMTP_HOST")
    try:
        with _connect(settings, timeout) as smtp:
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()), (0, b""))
        raise _failure(code, reply) from None
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
        raise _failure(error.smtp_code, error.smtp_error) from None
    except smtplib.SMTPAuthenticationError as error:
        raise TemporaryFailure(
            f"SMTP {error.smtp_code}: the server refused the login; check JAGADATA_SMTP_USERNAME "
            "and JAGADATA_SMTP_PASSWORD"
        ) from None
    except smtplib.SMTPResponseException as error:
        raise _failure(error.smtp_code, error.smtp_error) from None
    except (smtplib.SMTPException, OSError) as error:
        raise TemporaryFailure(f"SMTP {error.__class__.__name__}: {error}") from None
    if refused:
        code, reply = next(iter(refused.values()))
        raise _failure(code, reply)


def _connect(settings: Settings, timeout: float) -> smtplib.SMTP:
    host, port = settings.smtp_host or "", settings.smtp_port
    if settings.smtp_security == "tls":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    except BaseException:
        smtp.close()
        raise
    return smtp


def _failure(code: int, reply: bytes | str) -> TemporaryFailure | PermanentFailure:
    """5xx replies are permanent, everything else (4xx, odd codes) is worth another try."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    reason = f"SMTP {code}: {text}"
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)


def recipient_address(value: str) -> str:
    """`value` as one valid address (display names allowed), or ValueError."""
    name, address = parseaddr(value)
    if not address or "@" not in address:
        raise ValueError("not an email address")
    Address(display_name=name, addr_spec=address)
    return value.strip()
