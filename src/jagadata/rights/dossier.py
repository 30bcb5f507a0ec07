"""The evidence dossier of one request, for the authority (Art. 14 recorded request; Art. 24
and 47 accountability; Art. 35-39 security): the request as received, how the person was
verified, every timeline step with who, when and its hash, the chain's verification, pauses,
tasks, the hashes of every attachment (rechecked against the stored bytes), the copies made
and when they were erased, the response sent, and the request's entries in the audit trail.

The person's contact and what they wrote stay encrypted unless `personal_data=True`: the
dossier names them by the keyed hash of their identifier (`subject_ref`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.audit.models import AuditEntry
from jagadata.i18n import N_, gettext
from jagadata.law.facts import RIGHTS, Right
from jagadata.orgs.models import Organisation
from jagadata.policy import labels
from jagadata.rights import service
from jagadata.rights.bundle import bundles_of, manifest_of
from jagadata.rights.grounds import GROUNDS
from jagadata.rights.models import (
    AttachmentKind,
    RequestAttachment,
    RequestPause,
    RightsRequest,
    Verification,
)
from jagadata.rights.templating import environment

SCHEMA: Final = "jagadata-request-dossier/1"
WITHHELD: Final = N_("withheld (encrypted at rest)")


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "rights")


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _request(request: RightsRequest, personal_data: bool, lang: str) -> dict[str, Any]:
    right = Right(request.right)
    ground = GROUNDS.get(request.refusal_ground or "")
    withheld = _t(lang, WITHHELD)
    return {
        "reference": request.reference,
        "right": request.right,
        "rightLabel": gettext(lang, RIGHTS[right].label),
        "articles": [a.cite(lang) for a in RIGHTS[right].articles],
        "status": request.status,
        "channel": request.channel,
        "language": request.language,
        "manifestVersion": request.manifest_version,
        "identifier": request.identifier,
        "identifierKind": request.identifier_kind,
        "subjectRef": request.subject_ref,
        "contact": request.contact if personal_data else withheld,
        "details": request.details if personal_data else (withheld if request.details else {}),
        "onBehalf": request.on_behalf,
        "authorityGiven": request.authority is not None,
        "receivedAt": _iso(request.received_at),
        "verifiedAt": _iso(request.verified_at),
        "verificationMethod": request.verification_method,
        "clockStart": request.clock_start,
        "clockStartedAt": _iso(request.clock_started_at),
        "zone": request.zone,
        "acknowledgeDueAt": _iso(request.acknowledge_due_at),
        "acknowledgedAt": _iso(request.acknowledged_at),
        "dueAt": _iso(request.due_at),
        "deadline": request.deadline,
        "approvalRequired": request.approval_required,
        "approvedBy": request.approved_by_id,
        "assignee": request.assignee_id,
        "refusalGround": {
            "key": ground.key,
            "label": ground.label_in(lang),
            "article": ground.article.cite(lang),
        }
        if ground
        else None,
        "outcome": request.outcome,
        "closedAt": _iso(request.closed_at),
        "externalId": request.external_id,
    }


def _attachment(row: RequestAttachment, lang: str) -> dict[str, Any]:
    content = base64.b64decode(row.content)
    entry: dict[str, Any] = {
        "id": row.id,
        "kind": row.kind,
        "filename": row.filename,
        "mediaType": row.media_type,
        "size": row.size,
        "sha256": row.sha256,
        "hashMatches": hashlib.sha256(content).hexdigest() == row.sha256
        and len(content) == row.size,
        "uploadedAt": _iso(row.uploaded_at),
        "uploadedBy": row.uploaded_by_id,
        "task": row.task_id,
    }
    if row.kind == AttachmentKind.RESPONSE.value:
        entry["text"] = content.decode("utf-8", "replace")
    return entry


def build_dossier(
    session: Session,
    request: RightsRequest,
    *,
    personal_data: bool = False,
    lang: str = "id",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Everything the organisation can show about how `request` was handled."""
    organisation = session.get(Organisation, request.organisation_id)
    assert organisation is not None
    events = service.timeline(session, request)
    broken = service.verify_timeline(session, request)
    verifications = session.scalars(
        select(Verification).where(Verification.request_id == request.id).order_by(Verification.id)
    ).all()
    pauses = session.scalars(
        select(RequestPause).where(RequestPause.request_id == request.id).order_by(RequestPause.id)
    ).all()
    attachments = session.scalars(
        select(RequestAttachment)
        .where(RequestAttachment.request_id == request.id)
        .order_by(RequestAttachment.id)
    ).all()
    audit = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.organisation_id == request.organisation_id,
            AuditEntry.target_type == "rights_request",
            AuditEntry.target_id == request.reference,
        )
        .order_by(AuditEntry.sequence)
    ).all()
    try:
        _version, manifest = manifest_of(session, organisation, request.manifest_version)
        security = [
            labels._t(lang, labels.SECURITY_KINDS[m.kind]) for m in manifest.security.measures
        ]
    except LookupError:
        security = []
    closing = next((e for e in reversed(events) if e.kind in ("fulfilled", "refused")), None)
    attached = [_attachment(row, lang) for row in attachments]
    return {
        "schema": SCHEMA,
        "generatedAt": _iso(now or datetime.now(UTC)),
        "language": lang,
        "personalData": personal_data,
        "organisation": {"slug": organisation.slug, "name": organisation.name},
        "request": _request(request, personal_data, lang),
        "onTime": closing.data.get("on_time") if closing is not None else None,
        "verification": [
            {
                "channel": v.channel,
                "purpose": "download" if v.channel == "download" else "identity",
                "sentAt": _iso(v.sent_at),
                "expiresAt": _iso(v.expires_at),
                "attempts": v.attempts,
                "usedAt": _iso(v.used_at),
            }
            for v in verifications
        ],
        "timeline": [
            {
                "sequence": e.sequence,
                "kind": e.kind,
                "at": _iso(e.at),
                "actorKind": e.actor_kind,
                "actorId": e.actor_id,
                "actorLabel": e.actor_label,
                "statusAfter": e.status_after,
                "data": e.data,
                "prevHash": e.prev_hash,
                "hash": e.hash,
            }
            for e in events
        ],
        "chain": {
            "intact": broken is None,
            "brokenAt": broken,
            "entries": len(events),
            "lastHash": request.last_hash,
        },
        "pauses": [
            {"reason": p.reason, "startedAt": _iso(p.started_at), "endedAt": _iso(p.ended_at)}
            for p in pauses
        ],
        "tasks": [
            {
                "position": t.position,
                "system": t.system,
                "systemName": t.system_name,
                "doneAt": _iso(t.done_at),
                "doneBy": t.done_by_id,
                "note": t.note,
            }
            for t in service.tasks_of(session, request)
        ],
        "attachments": attached,
        "responses": [a for a in attached if a["kind"] == AttachmentKind.RESPONSE.value],
        "bundles": [
            {
                "id": b.id,
                "filename": b.filename,
                "size": b.size,
                "sha256": b.sha256,
                "createdAt": _iso(b.created_at),
                "expiresAt": _iso(b.expires_at),
                "downloadedAt": _iso(b.downloaded_at),
                "copyErased": b.content is None,
            }
            for b in bundles_of(session, request)
        ],
        "audit": [
            {
                "sequence": a.sequence,
                "occurredAt": _iso(a.occurred_at),
                "action": a.action,
                "actorKind": a.actor_kind,
                "actorId": a.actor_id,
                "details": a.details,
                "hash": a.hash,
            }
            for a in audit
        ],
        "security": security,
    }


def render_html(dossier: dict[str, Any]) -> str:
    """The dossier as one printable page (inline CSS, no external files)."""
    lang = dossier["language"]
    return (
        environment(lang)
        .get_template("bundle/dossier.html")
        .render(lang=lang, d=dossier, pretty=lambda v: json.dumps(v, ensure_ascii=False))
    )


def write_dossier(
    session: Session,
    request: RightsRequest,
    directory: Path,
    *,
    personal_data: bool = False,
    lang: str = "id",
    now: datetime | None = None,
) -> tuple[Path, Path, dict[str, Any]]:
    """Write `{reference}-dossier.json` and `.html` into `directory` (created if needed)."""
    dossier = build_dossier(session, request, personal_data=personal_data, lang=lang, now=now)
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / f"{request.reference}-dossier.json"
    html_path = directory / f"{request.reference}-dossier.html"
    json_path.write_text(
        json.dumps(dossier, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    html_path.write_text(render_html(dossier), encoding="utf-8")
    return json_path, html_path, dossier
