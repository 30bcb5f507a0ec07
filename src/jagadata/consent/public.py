"""Public opt-in pages, in the visitor's language:

GET/POST /o/{org}/subscribe            ask for consent by email (double opt-in); the age
                                       first when the organisation serves children (Art. 25)
GET/POST /o/{org}/confirm/{token}      the confirmation: the consent event is recorded on
                                       the button press (a mail scanner opening the link
                                       records nothing), then the receipt is offered
GET      /o/{org}/unsubscribe/{token}  withdraw with one click (the button posts to the
                                       one-click target under /api/, see optin_api.py)
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from jagadata.accounts import ratelimit
from jagadata.accounts.deps import now_of
from jagadata.consent import links
from jagadata.consent.optin import (
    OptInRefused,
    confirm_email,
    manifest_in_force,
    marketing_purposes,
    request_optin,
)
from jagadata.consent.optin_models import ConsentOptIn, LinkKind, OptInChannel
from jagadata.consent.service import ConsentInvalid
from jagadata.consent.terms import consent_text
from jagadata.consent.unsubscribe import PROCESSING_STOPS_WITHIN
from jagadata.consent.views import TEMPLATES_DIR, local_time
from jagadata.db import atomic
from jagadata.db.tenancy import acting_for
from jagadata.i18n import LANGUAGES, gettext, translations
from jagadata.manifest.schema import Manifest, ParentalConsent
from jagadata.orgs.models import Organisation
from jagadata.web.csrf import csrf_field, csrf_token
from jagadata.web.deps import SessionDep, organisation_or_404
from jagadata.web.templating import ENDONYMS, choose_language

router = APIRouter(include_in_schema=False)

PAGE_CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SUBSCRIBE_ADDRESS: Final = ratelimit.Policy(
    20, timedelta(minutes=15), timedelta(minutes=5), timedelta(hours=6)
)
"""Subscriptions from one network address: generous (an office, a school), but no flood."""
PRIVATE: Final = {"cache-control": "private, no-store", "x-robots-tag": "noindex, nofollow"}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "consent")


@lru_cache(maxsize=len(LANGUAGES))
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang, "consent"), newstyle=True)  # type: ignore[attr-defined]
    env.filters["local_time"] = lambda moment: local_time(moment, lang)
    env.globals["csrf_field"] = csrf_field
    env.globals["csrf_token"] = csrf_token
    return env


def _page(
    request: Request, template: str, lang: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    html = (
        environment(lang)
        .get_template(f"consent/{template}")
        .render(lang=lang, root=request.scope.get("root_path", ""), **context)
    )
    return HTMLResponse(
        html, status_code=status_code, headers={**PRIVATE, "content-security-policy": PAGE_CSP}
    )


def _in_force(request: Request, session: Any, org: str) -> tuple[Organisation, Manifest, str]:
    organisation = organisation_or_404(session, org)
    try:
        _number, manifest = manifest_in_force(
            session=session, organisation=organisation, now=now_of(request)
        )
    except LookupError:
        from fastapi import HTTPException

        raise HTTPException(status_code=404) from None
    offered = [lang for lang in LANGUAGES if lang in manifest.languages]
    return organisation, manifest, choose_language(request, offered)


def _children_rule(manifest: Manifest) -> int | None:
    """The minimum age when the organisation serves children with parental consent."""
    children = manifest.children
    if children and children.served and children.parental_consent is ParentalConsent.REQUIRED:
        return children.minimum_age
    return None


def _form_context(manifest: Manifest, lang: str) -> dict[str, Any]:
    purposes = [
        {"id": p.id, "name": p.name.get(lang), "text": consent_text(p, lang)}
        for p in marketing_purposes(manifest, OptInChannel.EMAIL)
    ]
    return {
        "organisation": manifest.organisation,
        "purposes": purposes,
        "languages": [(c, ENDONYMS[c]) for c in LANGUAGES if c in manifest.languages],
    }


@router.get("/o/{org}/subscribe")
def subscribe_page(org: str, request: Request, session: SessionDep) -> Response:
    """The opt-in form; with children served, the age question first (Art. 25)."""
    _organisation, manifest, lang = _in_force(request, session, org)
    minimum = _children_rule(manifest)
    step = "age" if minimum is not None else "form"
    return _page(
        request, "subscribe.html", lang, step=step, errors={}, **_form_context(manifest, lang)
    )


@router.post("/o/{org}/subscribe")
async def subscribe(org: str, request: Request, session: SessionDep) -> Response:
    organisation, manifest, lang = _in_force(request, session, org)
    form = await request.form()
    context = _form_context(manifest, lang)
    minimum = _children_rule(manifest)
    age_text = str(form.get("age") or "").strip()
    if minimum is not None:
        if not age_text.isdigit() or not 0 < int(age_text) < 130:
            errors = {"age": _t(lang, "Write your age in years, as a number.")}
            return _page(request, "subscribe.html", lang, 422, step="age", errors=errors, **context)
        if int(age_text) < minimum:
            purposes = [p["id"] for p in context["purposes"]]
            query = urlencode({"purpose": ",".join(purposes), "lang": lang})
            return RedirectResponse(f"/o/{organisation.slug}/guardian?{query}", status_code=303)
        if form.get("step") == "age":
            return _page(
                request, "subscribe.html", lang, step="form", age=age_text, errors={}, **context
            )
    email = str(form.get("email") or "")
    chosen = [str(p) for p in form.getlist("purpose")]
    client = request.client.host if request.client else None
    try:
        with atomic(session):
            ratelimit.limit(
                session=session,
                scope="consent.subscribe_address",
                key=client or "-",
                policy=SUBSCRIBE_ADDRESS,
                now=now_of(request),
            )
            requested = request_optin(
                session=session,
                organisation=organisation,
                channel=OptInChannel.EMAIL,
                contact=email,
                purposes=chosen,
                language=lang,
                source="subscribe page",
                ip=client,
                user_agent=request.headers.get("user-agent"),
                now=now_of(request),
                settings=request.app.state.settings,
            )
    except ratelimit.Limited as limited:
        minutes = max(1, limited.retry_after_seconds // 60)
        errors = {
            "contact": _t(
                lang,
                "Too many requests were sent from here or to this address; try again in "
                "{minutes} minutes.",
            ).format(minutes=minutes)
        }
        return _page(
            request,
            "subscribe.html",
            lang,
            429,
            step="form",
            age=age_text,
            errors=errors,
            email=email,
            chosen=chosen,
            **context,
        )
    except OptInRefused as refused:
        errors = {
            e.field.split("[")[0]: _t(lang, e.message).format(**e.values) for e in refused.errors
        }
        return _page(
            request,
            "subscribe.html",
            lang,
            422,
            step="form",
            age=age_text,
            errors=errors,
            email=email,
            chosen=chosen,
            **context,
        )
    return _page(
        request,
        "subscribe.html",
        lang,
        202,
        step="sent",
        expires_at=requested.expires_at,
        **context,
    )


@router.get("/o/{org}/confirm/{token}")
def confirm_page(org: str, token: str, request: Request, session: SessionDep) -> Response:
    """What the person is about to agree to, and the button that records it."""
    organisation, manifest, lang = _in_force(request, session, org)
    link = links.find(
        session=session,
        organisation_id=organisation.id,
        slug=organisation.slug,
        kind=LinkKind.CONFIRM,
        token=token,
    )
    if link is None or link.optin_id is None:
        return _page(
            request, "confirm.html", lang, 404, state="unknown", organisation=manifest.organisation
        )
    lang = link.language
    with acting_for(session, organisation.id):
        optin = session.get_one(ConsentOptIn, link.optin_id)
    state = "ask"
    if link.used_at is not None or optin.status != "pending":
        state = "already"
    elif link.expires_at is not None and link.expires_at <= now_of(request):
        state = "expired"
    purposes = [
        {"name": p.name.get(lang), "text": consent_text(p, lang)}
        for p in manifest.purposes
        if p.id in optin.purposes
    ]
    status = {"ask": 200, "already": 410, "expired": 410}[state]
    return _page(
        request,
        "confirm.html",
        lang,
        status,
        state=state,
        organisation=manifest.organisation,
        purposes=purposes,
        subscribe_url=f"/o/{organisation.slug}/subscribe?lang={lang}",
    )


@router.post("/o/{org}/confirm/{token}")
def confirm(org: str, token: str, request: Request, session: SessionDep) -> Response:
    organisation, manifest, lang = _in_force(request, session, org)
    settings = request.app.state.settings
    subscribe_url = f"/o/{organisation.slug}/subscribe"
    try:
        with atomic(session):
            done = confirm_email(
                session=session,
                organisation=organisation,
                token=token,
                ip=request.client.host if request.client else None,
                user_agent=request.headers.get("user-agent"),
                now=now_of(request),
                settings=settings,
            )
    except ConsentInvalid:
        return _page(
            request,
            "confirm.html",
            lang,
            409,
            state="changed",
            organisation=manifest.organisation,
            subscribe_url=subscribe_url,
        )
    if done.outcome != "confirmed":
        status = 404 if done.outcome == "unknown" else 410
        return _page(
            request,
            "confirm.html",
            done.language,
            status,
            state=done.outcome,
            organisation=manifest.organisation,
            subscribe_url=subscribe_url,
        )
    root = request.scope.get("root_path", "")
    receipts = [
        {
            "purpose": (
                manifest.purpose(e.purpose).name.get(done.language)  # type: ignore[union-attr]
                if manifest.purpose(e.purpose)
                else e.purpose
            ),
            "url": f"{root}/o/{organisation.slug}/receipts/{e.receipt_id}",
        }
        for e in done.events
        if e.receipt_id
    ]
    return _page(
        request,
        "confirm.html",
        done.language,
        state="confirmed",
        organisation=manifest.organisation,
        receipts=receipts,
    )


@router.get("/o/{org}/unsubscribe/{token}")
def unsubscribe_page(org: str, token: str, request: Request, session: SessionDep) -> Response:
    """One button to withdraw; after it, when processing stops (Art. 9, 40)."""
    organisation, manifest, lang = _in_force(request, session, org)
    link = links.find(
        session=session,
        organisation_id=organisation.id,
        slug=organisation.slug,
        kind=LinkKind.WITHDRAW,
        token=token,
    )
    if link is None:
        return _page(
            request,
            "unsubscribe.html",
            lang,
            404,
            state="unknown",
            organisation=manifest.organisation,
        )
    asked = request.query_params.get("lang")
    lang = asked if asked and asked in manifest.languages else link.language
    names = [
        p.name.get(lang) for p in manifest.purposes if not link.purposes or p.id in link.purposes
    ]
    done = request.query_params.get("done") == "1" and link.used_at is not None
    return _page(
        request,
        "unsubscribe.html",
        lang,
        state="done" if done else "ask",
        organisation=manifest.organisation,
        purposes=names,
        action=f"/api/v1/orgs/{organisation.slug}/consent/unsubscribe/{token}",
        stops_by=(link.used_at + PROCESSING_STOPS_WITHIN) if link.used_at else None,
        hours=int(PROCESSING_STOPS_WITHIN / timedelta(hours=1)),
    )
