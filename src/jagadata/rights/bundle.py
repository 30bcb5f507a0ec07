"""The access bundle: what a person receives for an access (Art. 7, 32) or portability
(Art. 13) request, as one zip they download once.

    index.html              a printable summary in the person's language (no external files)
    data.json, data.csv     their data: the exports staff attached, and what jagadata holds
    exports/…               the files staff attached (kind `export`), exactly as attached
    consent-history.json    their consent events from the ledger, with receipt ids
    processing-trail.json   per purpose: legal basis, data, recipients, transfers, retention
    request-log.json        this request's timeline, without staff-only notes
    SHA256SUMS              the hash of every file above

The bundle is stored encrypted (`RequestBundle.content`) with its SHA-256 and size; the copy is
erased once downloaded or expired, the hash stays as evidence.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import secrets
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.audit.service import Actor, record
from jagadata.consent.models import ConsentEvent
from jagadata.consent.receipts import receipt_url
from jagadata.consent.state import history
from jagadata.consent.terms import version_manifest
from jagadata.db.tenancy import acting_for
from jagadata.i18n import N_, gettext
from jagadata.law.facts import LEGAL_BASES, RIGHTS, TRANSFER_BASES, Right
from jagadata.manifest.describe import describe_retention
from jagadata.manifest.schema import Manifest, Purpose, Recipient, Sensitivity
from jagadata.orgs.models import ManifestVersion, Organisation
from jagadata.policy import labels
from jagadata.policy.words import country_names, text
from jagadata.rights.models import AttachmentKind, RequestAttachment, RequestBundle, RightsRequest
from jagadata.rights.service import timeline
from jagadata.rights.templating import environment, local_time

BUNDLE_RIGHTS: Final = frozenset({Right.ACCESS.value, Right.PORTABILITY.value})
BUNDLE_LIFETIME: Final = timedelta(days=7)
"""How long the download link works; then the copy is erased (Art. 43: no longer needed)."""
MEDIA_TYPE: Final = "application/zip"

PUBLIC_EVENT_FIELDS: Final = frozenset(
    {
        "right",
        "channel",
        "identifier",
        "on_behalf",
        "method",
        "clock_started_at",
        "on_time",
        "purpose",
        "event",
        "message",
        "attempts_left",
    }
)
"""Timeline data the person may see; staff notes, reasons and names stay out of the bundle."""
EVENT_LABELS: Final = {
    "received": N_("Request received and recorded"),
    "code_sent": N_("Verification code sent to you"),
    "code_failed": N_("A wrong code was entered"),
    "verified": N_("Your identity was confirmed"),
    "acknowledged": N_("Receipt acknowledged"),
    "assigned": N_("Assigned to a member of staff"),
    "started": N_("Handling started"),
    "paused": N_("Clock paused while waiting for information"),
    "resumed": N_("Clock resumed"),
    "task_done": N_("A step was completed in one of our systems"),
    "task_reopened": N_("A step was reopened"),
    "note": N_("Internal note"),
    "approval_asked": N_("Sent for a second check"),
    "approved": N_("Second check approved"),
    "rejected": N_("Second check asked for changes"),
    "fulfilled": N_("Request fulfilled"),
    "refused": N_("Request refused"),
    "withdrawn": N_("Request withdrawn"),
    "closed_unverified": N_("Closed without confirmation"),
    "clock_start_changed": N_("Start of the deadline changed"),
    "reminded": N_("Internal reminder"),
    "escalated": N_("Escalated internally"),
    "message_sent": N_("Message sent to you"),
}
NOTE_LABELS: Final = {
    "bundle_downloaded": N_("You downloaded your data; our copy was erased"),
    "bundle_expired": N_("The download link expired; our copy was erased"),
}
ACTOR_LABELS: Final = {
    "data_subject": N_("you"),
    "user": N_("our staff"),
    "api_key": N_("our system"),
    "system": N_("jagadata"),
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "rights")


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


@dataclass(frozen=True, slots=True)
class BundleFile:
    name: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Built:
    """A stored bundle and the token of its download link (only its hash is kept)."""

    bundle: RequestBundle
    token: str


# --- what the bundle says -------------------------------------------------------------------


def manifest_of(
    session: Session, organisation: Organisation, number: int | None = None
) -> tuple[ManifestVersion, Manifest]:
    """The manifest version `number`, else the one in force today."""
    from jagadata.orgs.service import current_version

    with acting_for(session, organisation.id):
        if number is None:
            version = current_version(session=session, organisation=organisation)
        else:
            version = session.scalars(
                select(ManifestVersion).where(
                    ManifestVersion.organisation_id == organisation.id,
                    ManifestVersion.number == number,
                )
            ).one_or_none()
    manifest = version_manifest(version) if version is not None else None
    if version is None or manifest is None:
        raise LookupError(f"organisation {organisation.slug} has no usable manifest")
    return version, manifest


def _countries(codes: Iterable[str], lang: str) -> list[dict[str, str]]:
    codes = list(codes)
    return [
        {"code": code, "name": name}
        for code, name in zip(codes, country_names(codes, lang), strict=True)
    ]


def _transfers_of(manifest: Manifest, recipient: Recipient, lang: str) -> list[dict[str, Any]]:
    """The recipient's transfers abroad with their Art. 56 basis; abroad without one: None."""
    rows = []
    covered: set[str] = set()
    for transfer in manifest.transfers:
        if transfer.recipient != recipient.id:
            continue
        covered |= set(transfer.countries)
        basis = None
        if transfer.basis is not None:
            article, label = TRANSFER_BASES[transfer.basis]
            basis = {
                "basis": transfer.basis.value,
                "label": gettext(lang, label),
                "article": article.cite(lang),
            }
        rows.append(
            {
                "recipient": recipient.id,
                "countries": _countries(transfer.countries, lang),
                "basis": basis,
                "safeguards": [labels._t(lang, labels.SAFEGUARDS[s]) for s in transfer.safeguards],
            }
        )
    abroad = [code for code in recipient.countries if code != "ID" and code not in covered]
    if abroad:
        rows.append(
            {
                "recipient": recipient.id,
                "countries": _countries(abroad, lang),
                "basis": None,
                "safeguards": [labels._t(lang, labels.SAFEGUARDS[s]) for s in recipient.safeguards],
            }
        )
    return rows


def _purpose_trail(manifest: Manifest, purpose: Purpose, lang: str) -> dict[str, Any]:
    basis = purpose.legal_basis
    categories = [c for c in (manifest.category(i) for i in purpose.categories) if c]
    recipients = [r for r in (manifest.recipient(i) for i in purpose.recipients) if r]
    rules = [r for r in manifest.retention if set(r.categories) & set(purpose.categories)]
    systems = [s for s in manifest.systems if set(s.categories) & set(purpose.categories)]
    return {
        "id": purpose.id,
        "name": text(purpose.name, lang),
        "description": text(purpose.description, lang) or None,
        "legalBasis": {
            "basis": basis.value,
            "label": labels._t(lang, labels.BASES[basis]),
            "article": LEGAL_BASES[basis].article.cite(lang),
            "explanation": text(purpose.legitimate_interest or purpose.legal_obligation, lang)
            or None,
        }
        if basis
        else None,
        "categories": [
            {
                "id": c.id,
                "name": text(c.name, lang),
                "items": [text(item, lang) for item in c.items],
                "specific": c.sensitivity is Sensitivity.SPECIFIC,
            }
            for c in categories
        ],
        "recipients": [
            {
                "id": r.id,
                "name": text(r.name, lang),
                "role": r.role.value,
                "service": text(r.service, lang),
                "countries": _countries(r.countries, lang),
            }
            for r in recipients
        ],
        "transfers": [row for r in recipients for row in _transfers_of(manifest, r, lang)],
        "retention": [
            {
                "id": rule.id,
                "name": text(rule.name, lang),
                "period": str(rule.period),
                "description": describe_retention(rule.period, lang),
                "action": rule.action.value,
                "legalSource": text(rule.legal_source, lang) or None,
            }
            for rule in rules
        ],
        "systems": [{"id": s.id, "name": s.name} for s in systems],
    }


def processing_trail(version: ManifestVersion, manifest: Manifest, lang: str) -> dict[str, Any]:
    """The processing trail (rekam jejak pemrosesan, Art. 32(1)) as the manifest declares it."""
    org = manifest.organisation
    return {
        "manifestVersion": version.number,
        "manifestHash": version.content_hash,
        "effective": version.effective.isoformat(),
        "language": lang,
        "controller": {
            "name": org.name,
            "tradingName": org.trading_name,
            "address": " ".join(org.address.split()),
            "email": str(org.email),
            "dpo": {"name": org.dpo.name, "email": str(org.dpo.email)} if org.dpo else None,
        },
        "purposes": [_purpose_trail(manifest, p, lang) for p in manifest.purposes],
        "systems": [
            {"id": s.id, "name": s.name, "categories": list(s.categories)} for s in manifest.systems
        ],
    }


def consent_history(
    session: Session, organisation: Organisation, subject_ref: str, base_url: str
) -> list[dict[str, Any]]:
    """Every consent event the ledger holds for this person (and only them), oldest first."""
    events: list[ConsentEvent] = history(
        session=session, organisation_id=organisation.id, subject_ref=subject_ref
    )
    return [
        {
            "sequence": event.sequence,
            "kind": event.kind,
            "purpose": event.purpose,
            "occurredAt": _iso(event.occurred_at),
            "recordedAt": _iso(event.recorded_at),
            "expiresAt": _iso(event.expires_at),
            "channel": event.channel,
            "language": event.language,
            "manifestVersion": event.manifest_version,
            "noticeHash": event.notice_hash,
            "receiptId": event.receipt_id,
            "receiptUrl": receipt_url(base_url, organisation.slug, event.receipt_id)
            if event.receipt_id
            else None,
            "hash": event.hash,
        }
        for event in events
    ]


def request_log(session: Session, request: RightsRequest, lang: str) -> list[dict[str, Any]]:
    """The request's timeline as the person may see it: what happened, when, by whom (a role,
    not a name), with each step's hash; staff notes and reasons stay out."""
    rows = []
    for event in timeline(session, request):
        data = event.data or {}
        label = EVENT_LABELS.get(event.kind, event.kind)
        if event.kind == "note" and data.get("event") in NOTE_LABELS:
            label = NOTE_LABELS[data["event"]]
        rows.append(
            {
                "sequence": event.sequence,
                "kind": event.kind,
                "label": _t(lang, label),
                "at": _iso(event.at),
                "by": _t(lang, ACTOR_LABELS.get(event.actor_kind, event.actor_kind)),
                "statusAfter": event.status_after,
                "details": {k: v for k, v in data.items() if k in PUBLIC_EVENT_FIELDS},
                "hash": event.hash,
            }
        )
    return rows


def _request_record(request: RightsRequest) -> dict[str, Any]:
    return {
        "reference": request.reference,
        "right": request.right,
        "status": request.status,
        "channel": request.channel,
        "language": request.language,
        "identifier": request.identifier,
        "identifierKind": request.identifier_kind,
        "contact": request.contact,
        "details": request.details,
        "onBehalf": request.on_behalf,
        "receivedAt": _iso(request.received_at),
        "verifiedAt": _iso(request.verified_at),
        "dueAt": _iso(request.due_at),
        "closedAt": _iso(request.closed_at),
    }


def _exports(session: Session, request: RightsRequest) -> list[RequestAttachment]:
    return list(
        session.scalars(
            select(RequestAttachment)
            .where(
                RequestAttachment.request_id == request.id,
                RequestAttachment.kind == AttachmentKind.EXPORT.value,
            )
            .order_by(RequestAttachment.id)
        )
    )


_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_name(filename: str, taken: set[str]) -> str:
    """A zip entry name from a staff-given file name: no folders, no odd characters, unique."""
    base = _UNSAFE.sub("_", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip("._") or "file"
    name, n = base[:100], 2
    while name in taken:
        stem, dot, ext = base.rpartition(".")
        name = f"{stem}-{n}.{ext}" if dot and stem else f"{base}-{n}"
        n += 1
    taken.add(name)
    return name


def _csv(data: Mapping[str, Any]) -> bytes:
    """data.json flattened: one row per value, `source`, `record`, `field`, `value`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["source", "record", "field", "value"])
    for field, value in data["request"].items():
        writer.writerow(["request", data["request"]["reference"], field, _cell(value)])
    for other in data["otherRequests"]:
        for field, value in other.items():
            writer.writerow(["other_request", other["reference"], field, _cell(value)])
    for event in data["consentHistory"]:
        for field, value in event.items():
            writer.writerow(["consent_event", event["sequence"], field, _cell(value)])
    for export in data["exports"]:
        for field, value in export.items():
            writer.writerow(["export", export["file"], field, _cell(value)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


def build_files(
    session: Session,
    request: RightsRequest,
    organisation: Organisation,
    *,
    base_url: str,
    now: datetime,
) -> list[BundleFile]:
    """Every file of the bundle, in the order they are zipped."""
    lang = request.language
    version, manifest = manifest_of(session, organisation)
    trail = processing_trail(version, manifest, lang)
    consents = consent_history(session, organisation, request.subject_ref, base_url)
    log = request_log(session, request, lang)
    taken: set[str] = set()
    exports = []
    export_files = []
    for attachment in _exports(session, request):
        name = "exports/" + _safe_name(attachment.filename, taken)
        content = base64.b64decode(attachment.content)
        exports.append(
            {
                "file": name,
                "originalName": attachment.filename,
                "mediaType": attachment.media_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
                "uploadedAt": _iso(attachment.uploaded_at),
            }
        )
        export_files.append(BundleFile(name, content))
    others = session.scalars(
        select(RightsRequest)
        .where(
            RightsRequest.organisation_id == organisation.id,
            RightsRequest.subject_ref == request.subject_ref,
            RightsRequest.id != request.id,
        )
        .order_by(RightsRequest.received_at)
    ).all()
    data = {
        "generatedAt": _iso(now),
        "organisation": trail["controller"],
        "request": _request_record(request),
        "otherRequests": [
            {
                "reference": o.reference,
                "right": o.right,
                "status": o.status,
                "receivedAt": _iso(o.received_at),
                "closedAt": _iso(o.closed_at),
            }
            for o in others
        ],
        "consentHistory": consents,
        "exports": exports,
    }
    page = (
        environment(lang)
        .get_template("bundle/index.html")
        .render(
            lang=lang,
            organisation=organisation,
            request=request,
            right_label=gettext(lang, RIGHTS[Right(request.right)].label),
            right_articles=", ".join(a.cite(lang) for a in RIGHTS[Right(request.right)].articles),
            generated=local_time(now, lang, request.zone),
            trail=trail,
            consents=consents,
            log=log,
            exports=exports,
            others=data["otherRequests"],
            when=lambda iso: (
                local_time(datetime.fromisoformat(iso), lang, request.zone) if iso else ""
            ),
            complaint=manifest.governing_law.complaint_authority,
            complaint_name=text(manifest.governing_law.complaint_authority.name, lang)
            if manifest.governing_law.complaint_authority
            else "",
        )
    )
    files = [
        BundleFile("index.html", page.encode("utf-8")),
        BundleFile("data.json", _json(data)),
        BundleFile("data.csv", _csv(data)),
        BundleFile(
            "consent-history.json", _json({"subjectRef": request.subject_ref, "events": consents})
        ),
        BundleFile("processing-trail.json", _json(trail)),
        BundleFile("request-log.json", _json({"reference": request.reference, "events": log})),
        *export_files,
    ]
    sums = "".join(f"{hashlib.sha256(f.content).hexdigest()}  {f.name}\n" for f in files)
    return [*files, BundleFile("SHA256SUMS", sums.encode("ascii"))]


def zip_files(files: Iterable[BundleFile], moment: datetime) -> bytes:
    buffer = io.BytesIO()
    stamp = moment.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            info = zipfile.ZipInfo(file.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.content)
    return buffer.getvalue()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_bundle(
    session: Session,
    request: RightsRequest,
    organisation: Organisation,
    *,
    base_url: str,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> Built:
    """Build the access bundle and store it encrypted, behind a new download token."""
    if request.right not in BUNDLE_RIGHTS:
        raise ValueError(f"a {request.right} request has no access bundle")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    content = zip_files(
        build_files(session, request, organisation, base_url=base_url, now=moment), moment
    )
    token = secrets.token_urlsafe(24)
    bundle = RequestBundle(
        organisation_id=request.organisation_id,
        request_id=request.id,
        token_hash=token_hash(token),
        filename=f"{request.reference}-data.zip",
        media_type=MEDIA_TYPE,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=base64.b64encode(content).decode("ascii"),
        created_at=moment,
        expires_at=moment + BUNDLE_LIFETIME,
    )
    session.add(bundle)
    session.flush()
    record(
        session=session,
        organisation_id=request.organisation_id,
        actor=actor or Actor.system(),
        action="rights.bundle.created",
        target_type="rights_request",
        target_id=request.reference,
        subject_ref=request.subject_ref,
        details={"bundle": bundle.id, "sha256": bundle.sha256, "size": bundle.size},
    )
    return Built(bundle, token)


def bundles_of(session: Session, request: RightsRequest) -> list[RequestBundle]:
    return list(
        session.scalars(
            select(RequestBundle)
            .where(RequestBundle.request_id == request.id)
            .order_by(RequestBundle.id)
        )
    )
