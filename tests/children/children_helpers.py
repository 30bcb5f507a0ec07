"""Helpers of the children's consent tests: forms sent as a browser sends them, and reads of
what was stored."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from notify_servers import ReceivedEmail
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jagadata.audit.models import AuditEntry
from jagadata.children.models import GuardianVerification
from jagadata.consent.ledger import verify_ledger
from jagadata.consent.models import ConsentEvent
from jagadata.db.tenancy import acting_for
from jagadata.orgs.service import get_organisation

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_GRANT = re.compile(r'name="grant" value="([^"]+)"')
_CODE = re.compile(r"\b(\d{6})\b")


def token_of(page: Response) -> str:
    found = _TOKEN.search(page.text)
    assert found, f"no CSRF token on {page.url} ({page.status_code})"
    return found.group(1)


def grant_of(page: Response) -> str:
    found = _GRANT.search(page.text)
    assert found, "no grant on the consent form"
    return found.group(1)


def submit(client: TestClient, page: Response, action: str, **fields: str) -> Response:
    """Post a form of `page` with its CSRF token, following no redirect."""
    return client.post(
        action, data={"csrf_token": token_of(page), **fields}, follow_redirects=False
    )


def org_id(factory: sessionmaker[Session], slug: str) -> int:
    with factory() as session:
        organisation = get_organisation(session=session, slug=slug)
        assert organisation is not None
        return organisation.id


def verifications(
    factory: sessionmaker[Session], organisation_id: int
) -> list[GuardianVerification]:
    with factory() as session, acting_for(session, organisation_id):
        return list(session.scalars(select(GuardianVerification).order_by(GuardianVerification.id)))


def events(factory: sessionmaker[Session], organisation_id: int) -> list[ConsentEvent]:
    with factory() as session, acting_for(session, organisation_id):
        return list(session.scalars(select(ConsentEvent).order_by(ConsentEvent.sequence)))


def audit_actions(factory: sessionmaker[Session], organisation_id: int) -> list[str]:
    with factory() as session, acting_for(session, organisation_id):
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.organisation_id == organisation_id)
                .order_by(AuditEntry.sequence)
            )
        )


def ledger_intact(factory: sessionmaker[Session], organisation_id: int) -> Any:
    with factory() as session, acting_for(session, organisation_id):
        result = verify_ledger(session=session, organisation_id=organisation_id)
    return result


def code_in(email: ReceivedEmail) -> str:
    """The 6-digit code of a guardian's email, read from its text."""
    body = email.message.get_body(preferencelist=("plain",))
    assert body is not None
    found = _CODE.search(body.get_content())
    assert found is not None, "no code in the email"
    return found.group(1)


def link_in(email: ReceivedEmail) -> str:
    body = email.message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"http\S+/guardian/[0-9a-f]{32}\S*", body.get_content())
    assert found is not None, "no link in the email"
    return found.group(0)
