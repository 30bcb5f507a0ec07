"""Publishing leaves evidence: adding an organisation and publishing a new version each write
an audit entry in the same transaction; publishing nothing writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.audit.models import AuditEntry
from jagadata.audit.service import Actor, verify_chain
from jagadata.manifest.loader import LoadedManifest
from jagadata.orgs import service

MakeManifest = Callable[..., LoadedManifest]


def _trail(session: Session, organisation_id: int) -> list[AuditEntry]:
    session.info["all_organisations"] = True
    try:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.organisation_id == organisation_id)
                .order_by(AuditEntry.sequence)
            )
        )
    finally:
        del session.info["all_organisations"]


def test_adding_and_publishing_are_audited_in_order(
    session: Session, make_manifest: MakeManifest
) -> None:
    first = make_manifest(slug="toko-jejak", effective=date(2026, 1, 1))
    added = service.add_organisation(session=session, loaded=first)
    service.update_organisation(session=session, loaded=first)  # unchanged: nothing to record
    published = service.update_organisation(
        session=session,
        loaded=make_manifest(slug="toko-jejak", effective=date(2026, 7, 1)),
        actor=Actor.user(12),
    )
    organisation_id = added.organisation.id
    trail = _trail(session, organisation_id)
    assert [(e.sequence, e.action) for e in trail] == [(1, "org.added"), (2, "org.published")]
    assert (trail[0].actor_kind, trail[0].actor_id) == ("system", None)
    assert (trail[1].actor_kind, trail[1].actor_id) == ("user", "12")
    assert trail[1].target_type == "manifest_version"
    assert trail[1].target_id == str(published.version.id)
    assert trail[1].details == {
        "slug": "toko-jejak",
        "version": 2,
        "content_hash": published.version.content_hash,
        "effective": "2026-07-01",
        "languages": ["id", "en", "fr"],
    }
    assert trail[0].occurred_at == added.version.created_at
    assert verify_chain(session=session, organisation_id=organisation_id).ok


def test_a_refused_publication_leaves_no_entry(
    session: Session, make_manifest: MakeManifest
) -> None:
    loaded = make_manifest(slug="toko-tolak")
    added = service.add_organisation(session=session, loaded=loaded)
    with pytest.raises(service.OrganisationExists):
        service.add_organisation(session=session, loaded=loaded)
    assert [e.action for e in _trail(session, added.organisation.id)] == ["org.added"]
