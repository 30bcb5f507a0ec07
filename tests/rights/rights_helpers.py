"""Reading what the person receives: the email's text, its code, the page's CSRF token."""

from __future__ import annotations

import re

from notify_servers import ReceivedEmail

CODE = re.compile(r"\b(\d{6})\b")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def text_of(email: ReceivedEmail) -> str:
    body = email.message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def code_in(email: ReceivedEmail) -> str:
    found = CODE.search(text_of(email))
    assert found is not None, "no code in the email"
    return found.group(1)


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)
