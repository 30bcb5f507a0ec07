"""What the person is told in writing when their request closes, in their language, through the
outbox (email or WhatsApp, per the identifier they gave), and kept with the request as an
attachment of kind `response` (Art. 14, 24):

- access and portability: the bundle is ready, with its download page (Art. 32, 13);
- rectification: what was corrected where (Art. 30);
- erasure: what was erased where, and what is kept, for how long and why (Art. 43-45);
- restriction: what was suspended or limited (Art. 41(3));
- a refusal: its ground with its article, the explanation, and how to complain (Art. 15, 33,
  41(2), 50) to the authority the manifest names (`governing_law.complaint_authority`).

The hook `on_closed` is registered with `service.on_event`: it runs inside the transaction that
writes the `fulfilled` or `refused` entry, so the message, the bundle and the entries that
record them commit (or roll back) together with the outcome.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from jagadata.audit.service import Actor, record
from jagadata.config import get_settings
from jagadata.i18n import N_, gettext
from jagadata.law.articles import art
from jagadata.law.facts import RIGHTS, Right
from jagadata.manifest.describe import describe_retention
from jagadata.manifest.schema import Manifest
from jagadata.notify.channels.whatsapp import MAX_TEXT_LENGTH
from jagadata.notify.service import enqueue_email, enqueue_whatsapp
from jagadata.orgs.models import Organisation
from jagadata.policy.words import text
from jagadata.rights import service
from jagadata.rights.bundle import BUNDLE_RIGHTS, create_bundle, manifest_of
from jagadata.rights.grounds import GROUNDS
from jagadata.rights.models import AttachmentKind, RequestAttachment, RequestEvent, RightsRequest
from jagadata.rights.states import EventKind
from jagadata.rights.templating import local_time

DONE_KEYS: Final = {
    "done": N_("Done: {items}."),
    "corrected": N_("Corrected: {items}."),
    "erased": N_("Erased from: {items}."),
    "restricted": N_("Processing suspended or limited in: {items}."),
    "stopped": N_("Processing stopped in: {items}."),
}
"""Keys of a request's `outcome` that say what was done where (a text, or a list of texts or
system ids); `kept` lists what is kept (retention rule ids, texts, or {what, why, until})."""

INTRO: Final = {
    Right.RECTIFICATION: (
        N_("We have corrected your personal data as you asked."),
        art("30(1)"),
    ),
    Right.ERASURE: (N_("We have erased your personal data as you asked."), art("43(1)")),
    Right.RESTRICTION: (
        N_("We have suspended or limited the processing of your personal data as you asked."),
        art("41(3)"),
    ),
    Right.WITHDRAW_CONSENT: (
        N_("We have stopped the processing that relied on the consent you withdrew."),
        art("40(1)"),
    ),
    Right.OBJECT_AUTOMATED: (
        N_("A person has reviewed the automated decision you objected to."),
        art("10(1)"),
    ),
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "rights")


def _names(value: Any, manifest: Manifest) -> list[str]:
    items = value if isinstance(value, list) else [value]
    systems = {s.id: s.name for s in manifest.systems}
    names = []
    for item in items:
        if isinstance(item, Mapping):
            where = systems.get(str(item.get("system", "")), item.get("system"))
            what = item.get("what") or item.get("action")
            names.append(" — ".join(str(part) for part in (where, what) if part))
        elif item not in (None, ""):
            names.append(systems.get(str(item), str(item)))
    return names


def kept_lines(outcome: Mapping[str, Any], manifest: Manifest, lang: str) -> list[str]:
    """What is kept and why: a retention rule id gives its name, period and legal source."""
    kept = outcome.get("kept") or []
    rules = {rule.id: rule for rule in manifest.retention}
    lines = []
    for item in kept if isinstance(kept, list) else [kept]:
        if isinstance(item, str) and item in rules:
            rule = rules[item]
            line = f"{text(rule.name, lang)}: {describe_retention(rule.period, lang)}"
            if rule.legal_source:
                line += f" ({text(rule.legal_source, lang)})"
            lines.append(line)
        elif isinstance(item, Mapping):
            parts = [str(item[k]) for k in ("what", "until", "why") if item.get(k)]
            lines.append(" — ".join(parts))
        elif item:
            lines.append(str(item))
    return lines


def done_lines(outcome: Mapping[str, Any], manifest: Manifest, lang: str) -> list[str]:
    lines = []
    for key, template in DONE_KEYS.items():
        names = _names(outcome.get(key), manifest) if outcome.get(key) else []
        if names:
            lines.append(_t(lang, template).format(items=", ".join(names)))
    return lines


def confirmation_text(
    request: RightsRequest, organisation: Organisation, manifest: Manifest, systems: list[str]
) -> tuple[str, str]:
    """The subject and text of the written confirmation (fulfilled) or refusal (refused)."""
    lang = request.language
    outcome = dict(request.outcome or {})
    right = Right(request.right)
    label = gettext(lang, RIGHTS[right].label)
    header = _t(lang, "Your request {reference} to {organisation} ({right}).").format(
        reference=request.reference, organisation=organisation.name, right=label
    )
    lines = [header, ""]
    if request.status == "refused":
        subject = _t(lang, "Your request {reference} was refused").format(
            reference=request.reference
        )
        lines += _refusal_lines(request, manifest, outcome, lang)
    else:
        subject = _t(lang, "Your request {reference} is done").format(reference=request.reference)
        intro, article = INTRO.get(right, (N_("We have handled your request."), None))
        sentence = _t(lang, intro)
        if article is not None:
            sentence += " (" + article.cite(lang) + ")"
        lines.append(sentence)
        if systems:
            lines.append(_t(lang, "Where: {systems}.").format(systems=", ".join(systems)))
        lines += done_lines(outcome, manifest, lang)
        kept = kept_lines(outcome, manifest, lang)
        if kept:
            lines += ["", _t(lang, "What we keep, and why:")]
            lines += [f"- {line}" for line in kept]
            if right is Right.ERASURE:
                lines.append(
                    _t(
                        lang,
                        "We keep only what the law requires, restrict it to that use and erase "
                        "it when the period ends ({article}).",
                    ).format(article=art("44(1)").cite(lang))
                )
        if outcome.get("summary"):
            lines += ["", str(outcome["summary"])]
    lines += [
        "",
        _t(lang, "Closed on {date}.").format(
            date=local_time(request.closed_at, lang, request.zone)
        ),
        _t(lang, "Questions? Reply to this message and quote {reference}.").format(
            reference=request.reference
        ),
    ]
    return subject, "\n".join(lines)


def _refusal_lines(
    request: RightsRequest, manifest: Manifest, outcome: Mapping[str, Any], lang: str
) -> list[str]:
    ground = GROUNDS.get(request.refusal_ground or str(outcome.get("ground", "")))
    lines = [_t(lang, "We cannot grant your request.")]
    if ground is not None:
        lines.append(
            _t(lang, "Ground: {label} ({article}).").format(
                label=ground.label_in(lang), article=ground.article.cite(lang)
            )
        )
        lines.append(ground.explanation_in(lang))
    if outcome.get("explanation"):
        lines.append(_t(lang, "Our explanation: {text}").format(text=outcome["explanation"]))
    if outcome.get("reference"):
        lines.append(_t(lang, "Under: {law}").format(law=outcome["reference"]))
    lines.append("")
    authority = manifest.governing_law.complaint_authority
    if authority is not None:
        where = text(authority.name, lang) + (f" ({authority.url})" if authority.url else "")
        lines.append(
            _t(
                lang,
                "If you disagree, reply to this message: we will look at it again. You may "
                "also complain to {authority}.",
            ).format(authority=where)
        )
    else:
        lines.append(
            _t(
                lang,
                "If you disagree, reply to this message: we will look at it again. You may "
                "also complain to the personal data protection authority.",
            )
        )
    return lines


def bundle_text(
    request: RightsRequest, organisation: Organisation, link: str, expires: datetime
) -> tuple[str, str]:
    lang = request.language
    subject = _t(lang, "Your data for request {reference} is ready").format(
        reference=request.reference
    )
    lines = [
        _t(lang, "Your request {reference} to {organisation} ({right}).").format(
            reference=request.reference,
            organisation=organisation.name,
            right=gettext(lang, RIGHTS[Right(request.right)].label),
        ),
        "",
        _t(
            lang,
            "A copy of your personal data and its processing trail is ready ({article}).",
        ).format(article=art("32(1)").cite(lang)),
        _t(lang, "Download it here: {link}").format(link=link),
        _t(
            lang,
            "To protect it, we will send you a one-time code first. The file can be "
            "downloaded once, until {date}; after that it is erased.",
        ).format(date=local_time(expires, lang, request.zone)),
        "",
        _t(lang, "Questions? Reply to this message and quote {reference}.").format(
            reference=request.reference
        ),
    ]
    return subject, "\n".join(lines)


def _fit(message: str) -> str:
    """A WhatsApp text is at most 4,096 characters; the full text stays in the response kept."""
    return message if len(message) <= MAX_TEXT_LENGTH else message[: MAX_TEXT_LENGTH - 1] + "…"


def deliver(session: Session, request: RightsRequest, *, subject: str, text_: str) -> str | None:
    """Send through the outbox to the identifier given; the channel used, or None when the
    identifier cannot receive messages (a customer number: staff hand the answer over)."""
    if request.identifier_kind == "email":
        enqueue_email(
            session=session,
            organisation_id=request.organisation_id,
            to=request.contact,
            subject=subject,
            text=text_,
            lang=request.language,
        )
        return "email"
    if request.identifier_kind == "phone":
        enqueue_whatsapp(
            session=session,
            organisation_id=request.organisation_id,
            to=request.contact,
            text=_fit(f"{subject}\n\n{text_}"),
        )
        return "whatsapp"
    return None


def keep_response(
    session: Session, request: RightsRequest, *, subject: str, text_: str, moment: datetime
) -> RequestAttachment:
    """Keep what was sent with the request (kind `response`), encrypted, with its hash."""
    content = f"Subject: {subject}\n\n{text_}\n".encode()
    attachment = RequestAttachment(
        organisation_id=request.organisation_id,
        request_id=request.id,
        kind=AttachmentKind.RESPONSE.value,
        filename=f"{request.reference}-response-{request.language}.txt",
        media_type="text/plain; charset=utf-8",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=base64.b64encode(content).decode("ascii"),
        uploaded_at=moment,
    )
    session.add(attachment)
    session.flush()
    return attachment


def download_link(organisation: Organisation, request: RightsRequest, token: str) -> str:
    base = get_settings().base_url.rstrip("/")
    return f"{base}/o/{organisation.slug}/requests/{request.reference}/download?k={token}"


def send_outcome(session: Session, request: RightsRequest, *, now: datetime | None = None) -> str:
    """Everything the person gets when `request` closes; returns the message kind sent."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    organisation = session.get(Organisation, request.organisation_id)
    assert organisation is not None
    _version, manifest = manifest_of(session, organisation)
    data: dict[str, Any] = {}
    if request.status == "fulfilled" and request.right in BUNDLE_RIGHTS:
        built = create_bundle(
            session, request, organisation, base_url=get_settings().base_url, now=moment
        )
        subject, body = bundle_text(
            request,
            organisation,
            download_link(organisation, request, built.token),
            built.bundle.expires_at,
        )
        kind = "bundle_ready"
        data = {
            "bundle": built.bundle.id,
            "sha256": built.bundle.sha256,
            "size": built.bundle.size,
            "expires_at": built.bundle.expires_at.isoformat(),
        }
    else:
        systems = [task.system_name for task in service.tasks_of(session, request) if task.done_at]
        subject, body = confirmation_text(request, organisation, manifest, systems)
        kind = "refusal" if request.status == "refused" else "confirmation"
    attachment = keep_response(session, request, subject=subject, text_=body, moment=moment)
    channel = deliver(session, request, subject=subject, text_=body)
    data.update(
        {
            "message": kind,
            "channel": channel,
            "delivered": channel is not None,
            "attachment": attachment.id,
            "sha256_text": attachment.sha256,
        }
    )
    # Recorded in the organisation's hash-chained audit trail rather than the request's own
    # timeline, which ends with the `fulfilled`/`refused` entry the outcome belongs to.
    record(
        session=session,
        organisation_id=request.organisation_id,
        actor=Actor.system(),
        action=f"rights.request.{kind}_sent",
        target_type="rights_request",
        target_id=request.reference,
        subject_ref=request.subject_ref,
        details=data,
        occurred_at=moment,
    )
    return kind


@service.on_event
def on_closed(session: Session, request: RightsRequest, event: RequestEvent) -> None:
    """The `fulfilled` or `refused` entry was just written: tell the person (and for access or
    portability, prepare their bundle) in the same transaction."""
    if event.kind in (EventKind.FULFILLED.value, EventKind.REFUSED.value):
        send_outcome(session, request, now=event.at)
