"""What the bundle, download, confirmation and dossier tests share: a session acting for La
Gelato Academy, a request taken through its whole life, consents in the ledger, the bundle's
files read back from its (encrypted) row."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faker import Faker
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jagadata.audit.service import Actor
from jagadata.config import Settings
from jagadata.consent.schemas import EventIn
from jagadata.consent.service import record_events
from jagadata.db import session_factory
from jagadata.db.tenancy import scope
from jagadata.orgs.models import Organisation
from jagadata.rights import confirmations, service
from jagadata.rights.models import AttachmentKind, RequestAttachment, RequestBundle, RightsRequest

RECEIVED = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)  # Thursday 23:30 WIB
STAFF = Actor.user(1, "staff")
STAFF_NOTE = "catatan internal petugas: jangan dibagikan"
ACCESS_KEYS: dict[str, str] = {}
"""The status page key of each request `handle` filed, by reference."""

assert confirmations.on_closed in service._EVENT_HOOKS  # the closing hook is registered


@pytest.fixture
def db(settings: Settings, migrated_engine: Engine) -> Iterator[Session]:
    with session_factory(migrated_engine)() as session:
        scope(session, gelato(session).id)
        yield session


@pytest.fixture
def fake() -> Faker:
    fake = Faker("id_ID")
    fake.seed_instance(32)
    return fake


def gelato(db: Session, slug: str = "la-gelato-academy") -> Organisation:
    """An example organisation (La Gelato Academy unless another slug is given)."""
    return db.scalars(select(Organisation).where(Organisation.slug == slug)).one()


def give_consent(db: Session, email: str, purpose: str = "marketing") -> list[Any]:
    recorded = record_events(
        session=db,
        organisation_id=gelato(db).id,
        actor=Actor.system("test"),
        events=[
            EventIn.model_validate(
                {
                    "kind": "given",
                    "purpose": purpose,
                    "language": "id",
                    "channel": "web_form",
                    "subject": {"kind": "email", "value": email},
                }
            )
        ],
        now=RECEIVED - timedelta(days=30),
    )
    db.commit()
    return recorded.events


def attach_export(db: Session, request: RightsRequest, filename: str, content: bytes) -> None:
    db.add(
        RequestAttachment(
            organisation_id=request.organisation_id,
            request_id=request.id,
            kind=AttachmentKind.EXPORT.value,
            filename=filename,
            media_type="text/csv",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=base64.b64encode(content).decode("ascii"),
            uploaded_at=RECEIVED + timedelta(hours=2),
        )
    )
    db.flush()


def handle(
    db: Session,
    email: str,
    *,
    right: str = "access",
    outcome: Mapping[str, Any] | None = None,
    exports: Mapping[str, bytes] | None = None,
    refuse: tuple[str, str] | None = None,
    identifier: str = "email",
    language: str = "id",
) -> RightsRequest:
    """File, verify, start, tick every task (with a staff note), then fulfil or refuse."""
    filed = service.file_request(
        session=db,
        organisation=gelato(db),
        right=right,
        identifier=identifier,
        value=email,
        language=language,
        received_at=RECEIVED,
    )
    request = filed.request
    ACCESS_KEYS[request.reference] = filed.access_key
    assert filed.code is not None
    service.verify_code(db, request, filed.code, now=RECEIVED + timedelta(minutes=5))
    service.start(db, request, actor=STAFF, now=RECEIVED + timedelta(hours=1))
    for name, content in (exports or {}).items():
        attach_export(db, request, name, content)
    for task in service.tasks_of(db, request):
        service.complete_task(
            db, request, task.id, actor=STAFF, user_id=None, note=STAFF_NOTE,
            now=RECEIVED + timedelta(hours=3),
        )  # fmt: skip
    closed = RECEIVED + timedelta(hours=5)
    if refuse is not None:
        service.refuse(
            db, request, actor=STAFF, ground=refuse[0], explanation=refuse[1], now=closed
        )
    else:
        service.fulfil(db, request, actor=STAFF, outcome=dict(outcome or {}), now=closed)
    db.commit()
    return request


def bundle_of(db: Session, request: RightsRequest) -> RequestBundle:
    return db.scalars(select(RequestBundle).where(RequestBundle.request_id == request.id)).one()


def files_of(bundle: RequestBundle) -> dict[str, bytes]:
    assert bundle.content is not None
    data = base64.b64decode(bundle.content)
    assert hashlib.sha256(data).hexdigest() == bundle.sha256
    assert len(data) == bundle.size
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
