"""The organisation's outbox: messages by state, and the dead letters (what could not be
delivered) with a retry. A message's recipient is a person's data: showing it is audited."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from jagadata.accounts.deps import Member, now_of, require_role
from jagadata.accounts.roles import Action
from jagadata.audit.service import Actor, record
from jagadata.console.audited import audited_view, subject_ref_of
from jagadata.console.charts import Bar, BarChart
from jagadata.console.health import outbox_counts
from jagadata.console.home import OUTBOX_LABELS
from jagadata.console.render import DOMAIN, console_language, render, wants_fragment
from jagadata.db import atomic
from jagadata.i18n import N_, gettext
from jagadata.identities import IdentityKind
from jagadata.notify.models import Channel, OutboxMessage, OutboxStatus
from jagadata.notify.service import NotADeadLetter, list_dead_letters, retry_dead_letter
from jagadata.web.deps import SessionDep

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Member, Depends(require_role(Action.VIEW_DASHBOARD))]
Reader = Annotated[Member, Depends(require_role(Action.VIEW_PERSONAL_DATA))]
Retrier = Annotated[Member, Depends(require_role(Action.HANDLE_REQUESTS))]

DEAD_LETTERS_SHOWN: Final = 100
CHANNEL_LABELS: Final = {
    Channel.EMAIL: N_("Email"),
    Channel.WHATSAPP: N_("WhatsApp"),
    Channel.WEBHOOK: N_("Webhook"),
}
IDENTITY_OF_CHANNEL: Final = {
    Channel.EMAIL: IdentityKind.EMAIL,
    Channel.WHATSAPP: IdentityKind.PHONE,
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, DOMAIN)


def _outbox_page(
    request: Request,
    session: Session,
    member: Member,
    *,
    revealed: dict[int, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    lang = console_language(request)
    organisation_id = member.organisation.id
    counts = outbox_counts(session=session, organisation_id=organisation_id)
    chart = BarChart(
        "outbox-chart",
        _t(lang, "Messages in the outbox, by state"),
        tuple(Bar(s.value, _t(lang, OUTBOX_LABELS[s]), counts[s]) for s in OutboxStatus),
    )
    dead = list_dead_letters(
        session=session, organisation_id=organisation_id, limit=DEAD_LETTERS_SHOWN
    )
    return render(
        request,
        "console/outbox.html",
        signed_in=member.signed_in,
        member=member,
        section="outbox",
        status_code=status_code,
        context={
            "chart": chart,
            "dead": dead,
            "channels": {c.value: _t(lang, label) for c, label in CHANNEL_LABELS.items()},
            "revealed": revealed or {},
            "notice": notice,
            "may_read": member.may(Action.VIEW_PERSONAL_DATA),
            "may_retry": member.may(Action.HANDLE_REQUESTS),
        },
    )


@router.get("/admin/o/{org}/outbox")
def outbox_page(
    request: Request, session: SessionDep, member: Viewer, retried: int | None = None
) -> Response:
    lang = console_language(request)
    notice = (
        _t(lang, "Message {id} will be sent again in a moment.").format(id=retried)
        if retried is not None
        else None
    )
    return _outbox_page(request, session, member, notice=notice)


def _message(session: Session, member: Member, message_id: int) -> OutboxMessage:
    message = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.id == message_id,
            OutboxMessage.organisation_id == member.organisation.id,
        )
    ).one_or_none()
    if message is None:
        raise HTTPException(status_code=404)
    return message


@router.post("/admin/o/{org}/outbox/{message_id}/recipient")
def show_recipient(
    message_id: int, request: Request, session: SessionDep, member: Reader
) -> Response:
    """The message's recipient, once its viewing is in the audit trail."""
    message = _message(session, member, message_id)
    recipient = message.recipient
    kind = IDENTITY_OF_CHANNEL.get(Channel(message.channel))
    audited_view(
        request,
        session,
        member,
        action="outbox.recipient_viewed",
        target_type="outbox_message",
        target_id=message.id,
        subject_ref=subject_ref_of(kind, recipient) if kind else None,
        details={"channel": message.channel},
    )
    if wants_fragment(request):
        return render(
            request,
            "console/_recipient.html",
            signed_in=member.signed_in,
            member=member,
            context={"recipient": recipient},
            fragment="console/_recipient.html",
        )
    return _outbox_page(request, session, member, revealed={message.id: recipient})


@router.post("/admin/o/{org}/outbox/{message_id}/retry")
def retry(message_id: int, request: Request, session: SessionDep, member: Retrier) -> Response:
    """Give a dead letter a fresh series of attempts (audited), starting once committed."""
    lang = console_language(request)
    try:
        with atomic(session):
            retry_dead_letter(
                session=session, organisation_id=member.organisation.id, message_id=message_id
            )
            record(
                session=session,
                organisation_id=member.organisation.id,
                actor=Actor.user(member.user.id),
                action="outbox.retried",
                target_type="outbox_message",
                target_id=message_id,
                ip=request.client.host if request.client else None,
                user_agent=request.headers.get("user-agent"),
                occurred_at=now_of(request),
            )
    except NotADeadLetter:
        _message(session, member, message_id)
        notice = _t(lang, "Message {id} is not undeliverable (any more): nothing to retry.")
        return _outbox_page(
            request, session, member, notice=notice.format(id=message_id), status_code=409
        )
    root = request.scope.get("root_path", "")
    return RedirectResponse(
        f"{root}/admin/o/{member.organisation.slug}/outbox?retried={message_id}", status_code=303
    )
