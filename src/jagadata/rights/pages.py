"""The privacy centre's request pages, phone-first, in the visitor's language.

    GET  /o/{org}/requests/new                  pick a right, say who you are, send
    POST /o/{org}/requests/new                  recorded at once (Art. 14); a code is sent
    GET  /o/{org}/requests/{ref}/verify?k=…     enter the code
    POST /o/{org}/requests/{ref}/verify         check it (5 attempts, 30 minutes)
    POST /o/{org}/requests/{ref}/resend         a new code (rate-limited)
    GET  /o/{org}/requests/link/{token}         the link sent with the code
    GET  /o/{org}/requests/{ref}?k=…            where the request stands, and its deadline

Whether the person is known to the organisation is never revealed: every request is recorded
and every code sent to the identifier given, whoever it belongs to. The status pages need the
key of the link handed to the person (`k`); the reference alone shows nothing.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any, Final

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from jagadata.accounts import ratelimit
from jagadata.accounts.deps import now_of, settings_of
from jagadata.db.tenancy import scope
from jagadata.i18n import N_, gettext
from jagadata.law.facts import RIGHTS, Right
from jagadata.manifest.schema import IdentifierKind, Manifest
from jagadata.orgs.models import Organisation
from jagadata.rights import service
from jagadata.rights.messages import send_code
from jagadata.rights.plan import identifiers, offered_rights, plan_request
from jagadata.rights.service import CodeRefused, RequestProblem
from jagadata.rights.states import OnBehalf, RequestChannel, RequestStatus
from jagadata.rights.templating import local_time, render
from jagadata.rights.workflow import is_open
from jagadata.web.deps import SessionDep, organisation_or_404
from jagadata.web.templating import choose_language

router = APIRouter(include_in_schema=False)

REFERENCE: Final = r"^R-[A-Z0-9]{8}$"
MAX_PROOF_BYTES: Final = 2 * 1024 * 1024
PROOF_TYPES: Final = ("application/pdf", "image/jpeg", "image/png")
MAX_DETAILS: Final = 4000
FILING: Final = ratelimit.Policy(10, timedelta(hours=1), timedelta(minutes=15), timedelta(hours=24))
"""Requests filed from one address: ten an hour, then a pause (each sends a code)."""

DETAILS_LABELS: Final = {
    Right.RECTIFICATION: N_("The correct values (what is wrong, and what it should be)"),
    Right.OBJECT_AUTOMATED: N_("Which decision, and why you object to it"),
    Right.RESTRICTION: N_("Which processing to stop or limit, and why"),
    Right.WITHDRAW_CONSENT: N_("Which consent you withdraw (for example: promotions by WhatsApp)"),
}
FIELD_MESSAGES: Final = {
    "right": N_("Choose the right you want to use."),
    "identifier": N_("Choose how we can recognise you."),
    "value": N_("This does not look right: check it and try again."),
    "authority": N_(
        "Say how you are related to the person and attach a proof (a family card, a birth "
        "certificate or a power of attorney)."
    ),
    "details": N_("Please describe the correction you need."),
    "proof": N_("The proof must be a PDF, JPEG or PNG file of at most 2 MB."),
}
CODE_MESSAGES: Final = {
    "wrong": N_("That code is not right."),
    "expired": N_("That code has expired. Ask for a new one below."),
    "locked": N_("Too many wrong codes. Ask for a new one below."),
    "no_code": N_("There is no code waiting for this request. Ask for a new one below."),
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "rights")


def _field_message(lang: str, field: str) -> str:
    message = FIELD_MESSAGES.get(field) or FIELD_MESSAGES["value"]
    return gettext(lang, message, "rights")


def _context(organisation: Organisation, manifest: Manifest) -> dict[str, Any]:
    """What every request page's shell (the centre's header and footer) needs."""
    return {
        "organisation": organisation,
        "centre_url": f"/o/{organisation.slug}/",
        "languages": list(manifest.languages),
        "contact": None,
    }


def _loaded(session: SessionDep, org: str) -> tuple[Organisation, int, Manifest]:
    organisation = organisation_or_404(session, org)
    scope(session, organisation.id)
    try:
        number, manifest = service.manifest_in_force(session, organisation)
    except RequestProblem:
        raise HTTPException(status_code=404) from None
    return organisation, number, manifest


def _rights(manifest: Manifest, lang: str) -> list[dict[str, Any]]:
    rows = []
    for right in offered_rights(manifest):
        fact = RIGHTS[right]
        plan = plan_request(manifest, right)
        deadline = plan.fulfilment
        rows.append(
            {
                "value": right.value,
                "label": gettext(lang, fact.label),
                "description": gettext(lang, fact.description),
                "articles": ", ".join(a.cite(lang, with_law=False) for a in fact.articles[:1]),
                "deadline": _deadline_text(deadline, lang) if deadline else None,
                "details_label": _t(lang, DETAILS_LABELS[right])
                if right in DETAILS_LABELS
                else None,
            }
        )
    return rows


def _deadline_text(deadline: Any, lang: str) -> str:
    duration = deadline.duration
    if deadline.source == "law":
        return _t(lang, "Within 3 x 24 hours of receipt ({article}).").format(
            article=deadline.articles[-1].cite(lang) if deadline.articles else ""
        )
    units = {
        "h": _t(lang, "{n} hours"),
        "d": _t(lang, "{n} working days")
        if deadline.calendar.value == "working_days"
        else _t(lang, "{n} days"),
        "w": _t(lang, "{n} weeks"),
        "m": _t(lang, "{n} months"),
        "y": _t(lang, "{n} years"),
    }
    return _t(lang, "Within {duration}, as the organisation promises.").format(
        duration=units[duration.unit].format(n=duration.amount)
    )


def _identifier_rows(manifest: Manifest, lang: str) -> list[dict[str, str]]:
    labels = {
        IdentifierKind.EMAIL: _t(lang, "Email address"),
        IdentifierKind.PHONE: _t(lang, "WhatsApp number"),
        IdentifierKind.REFERENCE: _t(lang, "Customer or student number"),
        IdentifierKind.NIK: _t(lang, "NIK (identity card number)"),
    }
    inputs = {IdentifierKind.EMAIL: "email", IdentifierKind.PHONE: "tel"}
    return [
        {
            "id": ident.id,
            "label": ident.label.get(lang) if ident.label else labels[ident.kind],
            "input": inputs.get(ident.kind, "text"),
            "verifiable": "1" if ident.verifiable and ident.kind in inputs else "",
        }
        for ident in identifiers(manifest)
    ]


def _redress(manifest: Manifest, lang: str) -> dict[str, Any]:
    """Where to complain and how compensation is claimed (Art. 12), from the manifest."""
    organisation = manifest.organisation
    law = manifest.governing_law
    authority = law.complaint_authority
    return {
        "contact": organisation.dpo.email if organisation.dpo else organisation.email,
        "authority": authority.name.get(lang) if authority else None,
        "authority_url": authority.url if authority else None,
        "court": law.court.get(lang) if law.court else None,
        "amicable_first": law.amicable_first,
    }


@router.get("/o/{org}/requests/new")
def new_request(request: Request, org: str, session: SessionDep) -> Response:
    organisation, _number, manifest = _loaded(session, org)
    lang = choose_language(request, manifest.languages)
    chosen = request.query_params.get("right")
    return render(
        request,
        "rights/new.html",
        lang=lang,
        context={
            **_context(organisation, manifest),
            "redress": _redress(manifest, lang),
            "rights": _rights(manifest, lang),
            "identifiers": _identifier_rows(manifest, lang),
            "form": {"right": chosen} if chosen else {},
            "errors": {},
        },
    )


@router.post("/o/{org}/requests/new")
async def file_request(request: Request, org: str, session: SessionDep) -> Response:
    organisation, _number, manifest = _loaded(session, org)
    lang = choose_language(request, manifest.languages)
    async with request.form(max_files=1, max_fields=30) as form:
        values = {key: value for key, value in form.items() if isinstance(value, str)}
        proof = form.get("proof")
        proof_bytes = None
        proof_type = None
        if isinstance(proof, UploadFile) and proof.filename:
            proof_bytes = await proof.read(MAX_PROOF_BYTES + 1)
            proof_type = proof.content_type
    errors: dict[str, str] = {}
    right = values.get("right", "")
    details_text = values.get("details", "").strip()[:MAX_DETAILS]
    on_behalf_value = values.get("on_behalf", "self")
    on_behalf = OnBehalf(on_behalf_value) if on_behalf_value in set(OnBehalf) else None
    authority: dict[str, Any] | None = None
    if on_behalf is not None:
        relation = values.get("relation", "").strip()[:200]
        if proof_bytes is not None and (
            len(proof_bytes) > MAX_PROOF_BYTES or proof_type not in PROOF_TYPES
        ):
            errors["proof"] = _field_message(lang, "proof")
        if relation and proof_bytes:
            authority = {
                "relation": relation,
                "proof": {
                    "media_type": proof_type,
                    "size": len(proof_bytes),
                    "content": base64.b64encode(proof_bytes).decode("ascii"),
                },
            }
    if right == Right.RECTIFICATION.value and not details_text:
        errors["details"] = _field_message(lang, "details")
    filed = None
    if not errors:
        try:
            ratelimit.limit(
                session=session,
                scope="rights.request_filed",
                key=request.client.host if request.client else "unknown",
                policy=FILING,
                now=now_of(request),
            )
            filed = service.file_request(
                session=session,
                organisation=organisation,
                right=right,
                identifier=values.get("identifier", ""),
                value=values.get("value", ""),
                details={"text": details_text} if details_text else {},
                language=lang,
                channel=RequestChannel.WEB,
                on_behalf=on_behalf,
                authority=authority,
                received_at=now_of(request),
                settings=settings_of(request),
            )
        except RequestProblem as problem:
            session.rollback()
            errors[problem.field] = _field_message(lang, problem.field)
        except ratelimit.Limited:
            session.commit()
            return render(
                request,
                "rights/limited.html",
                lang=lang,
                status_code=429,
                context=_context(organisation, manifest),
            )
    if errors or filed is None:
        return render(
            request,
            "rights/new.html",
            lang=lang,
            status_code=422,
            context={
                **_context(organisation, manifest),
                "redress": _redress(manifest, lang),
                "rights": _rights(manifest, lang),
                "identifiers": _identifier_rows(manifest, lang),
                "form": values,
                "errors": errors,
            },
        )
    if filed.code is not None and filed.link_token is not None:
        base = settings_of(request).base_url.rstrip("/")
        send_code(
            session,
            filed.request,
            organisation_name=organisation.name,
            code=filed.code,
            link=f"{base}/o/{organisation.slug}/requests/link/{filed.link_token}",
        )
    session.commit()
    target = f"/o/{organisation.slug}/requests/{filed.request.reference}"
    if filed.code is not None:
        target += "/verify"
    return RedirectResponse(f"{target}?k={filed.access_key}&lang={lang}", status_code=303)


def _mine(request: Request, session: SessionDep, organisation: Organisation, ref: str) -> Any:
    found = service.request_for_person(session, organisation.id, ref, request.query_params.get("k"))
    if found is None:
        raise HTTPException(status_code=404)
    return found


@router.get("/o/{org}/requests/{ref}/verify")
def verify_form(request: Request, org: str, ref: str, session: SessionDep) -> Response:
    organisation, _number, manifest = _loaded(session, org)
    lang = choose_language(request, manifest.languages)
    mine = _mine(request, session, organisation, ref)
    return _verify_page(request, organisation, manifest, lang, mine, error=None)


def _verify_page(
    request: Request,
    organisation: Organisation,
    manifest: Manifest,
    lang: str,
    mine: Any,
    *,
    error: str | None,
    status_code: int = 200,
    sent_again: bool = False,
) -> Response:
    return render(
        request,
        "rights/verify.html",
        lang=lang,
        status_code=status_code,
        context={
            **_context(organisation, manifest),
            "item": mine,
            "key": request.query_params.get("k", ""),
            "error": error,
            "sent_again": sent_again,
            "channel": _t(lang, "email") if mine.identifier_kind == "email" else "WhatsApp",
        },
    )


@router.post("/o/{org}/requests/{ref}/verify")
async def verify(request: Request, org: str, ref: str, session: SessionDep) -> Response:
    organisation, _number, manifest = _loaded(session, org)
    lang = choose_language(request, manifest.languages)
    mine = _mine(request, session, organisation, ref)
    async with request.form(max_files=0, max_fields=5) as form:
        code = str(form.get("code", "")).strip()
    if mine.status != RequestStatus.RECEIVED.value:
        return _to_status(organisation, mine, request, lang)
    try:
        service.verify_code(session, mine, code, now=now_of(request))
    except CodeRefused as refused:
        session.commit()  # the attempt counts, and the failed try is on the timeline
        message = _t(lang, CODE_MESSAGES[refused.reason])
        if refused.reason == "wrong":
            message += " " + _t(lang, "Attempts left: {n}.").format(n=refused.attempts_left)
        return _verify_page(
            request, organisation, manifest, lang, mine, error=message, status_code=422
        )
    session.commit()
    return _to_status(organisation, mine, request, lang)


@router.post("/o/{org}/requests/{ref}/resend")
async def resend(request: Request, org: str, ref: str, session: SessionDep) -> Response:
    organisation, _number, manifest = _loaded(session, org)
    lang = choose_language(request, manifest.languages)
    mine = _mine(request, session, organisation, ref)
    if mine.status != RequestStatus.RECEIVED.value:
        return _to_status(organisation, mine, request, lang)
    try:
        ratelimit.limit(
            session=session,
            scope="rights.code_sent",
            key=mine.subject_ref,
            policy=ratelimit.SEND_CODE,
            now=now_of(request),
        )
        code, link = service.issue_code(session, mine, now=now_of(request))
    except (ratelimit.Limited, RequestProblem):
        session.commit()
        return _verify_page(
            request,
            organisation,
            manifest,
            lang,
            mine,
            error=_t(lang, "No more codes can be sent for now. Try again later, or contact us."),
            status_code=429,
        )
    base = settings_of(request).base_url.rstrip("/")
    send_code(
        session,
        mine,
        organisation_name=organisation.name,
        code=code,
        link=f"{base}/o/{organisation.slug}/requests/link/{link}",
    )
    session.commit()
    return _verify_page(request, organisation, manifest, lang, mine, error=None, sent_again=True)


@router.get("/o/{org}/requests/link/{token}")
def verify_by_link(request: Request, org: str, token: str, session: SessionDep) -> Response:
    organisation, _number, manifest = _loaded(session, org)
    lang = choose_language(request, manifest.languages)
    verified = service.verify_link(session, token[:64], now=now_of(request))
    session.commit()
    return render(
        request,
        "rights/linked.html",
        lang=lang,
        status_code=200 if verified else 404,
        context={
            **_context(organisation, manifest),
            "item": verified,
        },
    )


def _to_status(organisation: Organisation, mine: Any, request: Request, lang: str) -> Response:
    key = request.query_params.get("k", "")
    return RedirectResponse(
        f"/o/{organisation.slug}/requests/{mine.reference}?k={key}&lang={lang}", status_code=303
    )


@router.get("/o/{org}/requests/{ref}")
def status(request: Request, org: str, ref: str, session: SessionDep) -> Response:
    organisation, _number, manifest = _loaded(session, org)
    lang = choose_language(request, manifest.languages)
    mine = _mine(request, session, organisation, ref)
    clock = service.clock_of(mine)
    remaining = None
    if clock is not None and is_open(RequestStatus(mine.status)):
        remaining = clock.remaining(now_of(request), service.pauses_of(session, mine))
    return render(
        request,
        "rights/status.html",
        lang=lang,
        context={
            **_context(organisation, manifest),
            "item": mine,
            "key": request.query_params.get("k", ""),
            "right_label": gettext(lang, RIGHTS[Right(mine.right)].label),
            "status_label": _t(lang, STATUS_LABELS[RequestStatus(mine.status)]),
            "received": local_time(mine.received_at, lang, mine.zone),
            "due": local_time(mine.due_at, lang, mine.zone),
            "hours_left": int(remaining.total_seconds() // 3600) if remaining is not None else None,
        },
    )


STATUS_LABELS: Final = {
    RequestStatus.RECEIVED: N_("Received: waiting for you to confirm it is you"),
    RequestStatus.VERIFIED: N_("Confirmed: waiting to be handled"),
    RequestStatus.IN_PROGRESS: N_("Being handled"),
    RequestStatus.AWAITING_APPROVAL: N_("Being handled (a second check)"),
    RequestStatus.FULFILLED: N_("Done"),
    RequestStatus.REFUSED: N_("Refused, with the reason given"),
    RequestStatus.WITHDRAWN: N_("Withdrawn by you"),
    RequestStatus.CLOSED_UNVERIFIED: N_("Closed: it was never confirmed"),
}
