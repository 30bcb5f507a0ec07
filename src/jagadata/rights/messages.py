"""What the person receives about their request, in their language, through the outbox (sent
after the request's transaction commits, retried until delivered)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from jagadata.i18n import gettext
from jagadata.law.facts import RIGHTS, Right
from jagadata.notify.service import enqueue_email, enqueue_whatsapp
from jagadata.rights.models import RightsRequest
from jagadata.rights.templating import local_time


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "rights")


def right_label(right: str, lang: str) -> str:
    return gettext(lang, RIGHTS[Right(right)].label)


def send_code(
    session: Session,
    request: RightsRequest,
    *,
    organisation_name: str,
    code: str,
    link: str,
) -> None:
    """The one-time code and its link, to the identifier the person gave (email or WhatsApp)."""
    lang = request.language
    due = local_time(request.due_at, lang, request.zone)
    lines = [
        _t(lang, "Your request {reference} to {organisation} ({right}) has been received.").format(
            reference=request.reference,
            organisation=organisation_name,
            right=right_label(request.right, lang),
        ),
        "",
        _t(lang, "Your verification code: {code}").format(code=code),
        _t(lang, "Or open this link: {link}").format(link=link),
        _t(lang, "The code is valid for 30 minutes. Never share it with anyone.").format(),
        "",
    ]
    if due:
        lines.append(_t(lang, "We will handle it by {due} at the latest.").format(due=due))
    lines.append(
        _t(lang, "If you did not make this request, ignore this message: nothing will happen.")
    )
    text = "\n".join(lines)
    if request.identifier_kind == "email":
        enqueue_email(
            session=session,
            organisation_id=request.organisation_id,
            to=request.contact,
            subject=_t(lang, "Verification code for request {reference}").format(
                reference=request.reference
            ),
            text=text,
            lang=lang,
        )
    else:
        enqueue_whatsapp(
            session=session, organisation_id=request.organisation_id, to=request.contact, text=text
        )
