"""Public consent pages: a person's receipt (readable, printable, shareable over WhatsApp, and
downloadable as the signed JWS) and each organisation's public keys to verify receipts.

    GET /o/{org}/receipts/{receipt_id}?lang=id      the receipt page (printable HTML)
    GET /o/{org}/receipts/{receipt_id}/receipt.jws  the signed receipt, to keep and verify
    GET /o/{org}/.well-known/jwks.json              the organisation's Ed25519 keys (JWKS)
    GET /r/{receipt_id}                             a short link for a WhatsApp message

The receipt id is 128 random bits: knowing it is what gives access to the page.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import quote

from babel.dates import format_datetime
from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from jagadata.accounts.deps import now_of
from jagadata.consent import signing, state
from jagadata.consent.receipts import (
    COLLECTION_METHODS,
    Receipt,
    load_receipt,
    organisation_of_receipt,
    receipt_url,
    short_url,
    termination,
)
from jagadata.consent.terms import consent_text, cookie_purpose
from jagadata.i18n import LANGUAGES, gettext, translations
from jagadata.orgs.service import WIB
from jagadata.web.deps import SessionDep, organisation_or_404
from jagadata.web.templating import ENDONYMS, known_language

router = APIRouter(include_in_schema=False)

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
RECEIPT_ID: Final = r"^[A-Za-z0-9_-]{16,32}$"
PAGE_CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
"""The receipt is a standalone page with its own <style> (screen and print); no script runs."""
PRIVATE: Final = {"cache-control": "private, no-store", "x-robots-tag": "noindex, nofollow"}

ReceiptId = Annotated[str, PathParam(pattern=RECEIPT_ID)]


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "consent")


def local_time(moment: datetime | None, lang: str) -> str:
    if moment is None:
        return "—"
    return format_datetime(moment.astimezone(WIB), format="medium", locale=lang) + " WIB"


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
    return env


def _receipt_or_404(request: Request, session: Any, org: str, receipt_id: str) -> Receipt:
    organisation = organisation_or_404(session, org)
    found = load_receipt(
        session=session,
        organisation=organisation,
        receipt_id=receipt_id,
        base_url=request.app.state.settings.base_url,
    )
    if found is None:
        raise HTTPException(status_code=404)
    return found


@router.get("/o/{org}/receipts/{receipt_id}")
def receipt_page(
    org: str, receipt_id: ReceiptId, request: Request, session: SessionDep
) -> Response:
    """The receipt in the person's language (the one they consented in, unless ?lang= asks)."""
    receipt = _receipt_or_404(request, session, org, receipt_id)
    event, manifest = receipt.event, receipt.manifest
    offered = [lang for lang in LANGUAGES if lang in manifest.languages]
    lang = known_language(request.query_params.get("lang"), offered) or event.language
    purpose = manifest.purpose(event.purpose) or cookie_purpose(manifest, event.purpose)
    assert purpose is not None  # a receipt is only built for a purpose of its version
    base_url = request.app.state.settings.base_url
    page_url = receipt_url(base_url, receipt.organisation.slug, receipt_id)
    link = short_url(base_url, receipt_id)
    message = _t(lang, "My consent receipt from {organisation}: {link}").format(
        organisation=manifest.organisation.display_name, link=link
    )
    try:
        now = state.check(
            session=session,
            organisation_id=receipt.organisation.id,
            subject_ref=event.subject_ref,
            purpose=event.purpose,
            now=now_of(request),
        )
    except LookupError:
        now = None
    categories = [c.name.get(lang) for c in map(manifest.category, purpose.categories) if c]
    recipients = [
        r.name if isinstance(r.name, str) else r.name.get(lang)
        for r in map(manifest.recipient, purpose.recipients)
        if r
    ]
    context = {
        "receipt": receipt,
        "event": event,
        "organisation": manifest.organisation,
        "purpose_name": purpose.name.get(lang),
        "consent_text": consent_text(purpose, lang),
        "shown_text": consent_text(purpose, event.language),
        "shown_language": ENDONYMS.get(event.language, event.language),
        "channel": _t(lang, COLLECTION_METHODS[event.channel]),
        "termination": termination(manifest, purpose, event.expires_at, lang),
        "categories": categories,
        "recipients": recipients,
        "current": now,
        "languages": [(code, ENDONYMS[code]) for code in offered],
        "page_url": page_url,
        "short_url": link,
        "whatsapp_url": "https://wa.me/?text=" + quote(message, safe=""),
        "jws_url": f"{page_url}/receipt.jws",
        "jwks_url": f"{base_url.rstrip('/')}/o/{receipt.organisation.slug}/.well-known/jwks.json",
    }
    page = environment(lang).get_template("consent/receipt.html").render(lang=lang, **context)
    return HTMLResponse(page, headers={**PRIVATE, "content-security-policy": PAGE_CSP})


@router.get("/o/{org}/receipts/{receipt_id}/receipt.jws")
def receipt_jws(org: str, receipt_id: ReceiptId, request: Request, session: SessionDep) -> Response:
    """The signed receipt itself (compact JWS), to keep and verify offline."""
    receipt = _receipt_or_404(request, session, org, receipt_id)
    return Response(
        receipt.jws + "\n",
        media_type="application/jose",
        headers={
            **PRIVATE,
            "content-disposition": f'attachment; filename="receipt-{receipt_id}.jws"',
        },
    )


@router.get("/o/{org}/.well-known/jwks.json")
def jwks(org: str, session: SessionDep) -> Response:
    """Every public key the organisation signed receipts with (retired ones included)."""
    organisation = organisation_or_404(session, org)
    keys = signing.published_keys(session=session, organisation_id=organisation.id)
    return JSONResponse(
        signing.jwks(keys),
        headers={"cache-control": "public, max-age=300", "access-control-allow-origin": "*"},
    )


@router.get("/r/{receipt_id}")
def short_link(receipt_id: ReceiptId, request: Request, session: SessionDep) -> Response:
    """The short link in a WhatsApp message: on to the receipt page."""
    organisation = organisation_of_receipt(session=session, receipt_id=receipt_id)
    if organisation is None:
        raise HTTPException(status_code=404)
    target = f"{request.scope.get('root_path', '')}/o/{organisation.slug}/receipts/{receipt_id}"
    return RedirectResponse(target, status_code=303, headers=PRIVATE)
