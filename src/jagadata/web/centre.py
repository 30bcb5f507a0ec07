"""The public privacy centre of each organisation: /o/{org}/, its versions and downloads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from jagadata.manifest.schema import Manifest
from jagadata.orgs import service
from jagadata.orgs.models import ManifestVersion, Organisation, PolicyFormat
from jagadata.web.deps import MAX_VERSION, SessionDep, organisation_or_404
from jagadata.web.templating import (
    LANG_COOKIE,
    LANG_COOKIE_MAX_AGE,
    choose_language,
    known_language,
    render_page,
)

router = APIRouter(include_in_schema=False)

DOCUMENT_CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
"""A downloaded policy is a standalone page with its own <style>, and never runs a script."""

VersionNumber = Annotated[int, Path(ge=1, le=MAX_VERSION)]
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_VERSION)]


@dataclass(frozen=True)
class Contact:
    """How to reach the controller quickly, from the manifest of the version shown; the policy
    itself names the controller in full."""

    legal_name: str
    trading_name: str | None
    email: str
    whatsapp: str | None
    whatsapp_link: str | None
    phone: str | None
    dpo_name: str | None
    dpo_email: str | None

    @classmethod
    def of(cls, manifest: Manifest) -> Contact:
        org = manifest.organisation
        digits = re.sub(r"\D", "", org.whatsapp or "")
        return cls(
            legal_name=org.name,
            trading_name=org.trading_name,
            email=str(org.email),
            whatsapp=org.whatsapp,
            whatsapp_link=f"https://wa.me/{digits}" if digits else None,
            phone=org.phone,
            dpo_name=org.dpo.name if org.dpo else None,
            dpo_email=str(org.dpo.email) if org.dpo else None,
        )


@router.get("/o/{org}/")
def privacy_centre(org: str, request: Request, session: SessionDep) -> Response:
    """The policy in force today, in the visitor's language."""
    organisation = organisation_or_404(session, org)
    version = service.current_version(session=session, organisation=organisation)
    if version is None:
        raise HTTPException(status_code=404)
    return _policy_page(request, session, organisation, version)


@router.get("/o/{org}/versions/{number}")
def version_page(
    org: str, number: VersionNumber, request: Request, session: SessionDep
) -> Response:
    organisation = organisation_or_404(session, org)
    version = service.get_version(session=session, organisation=organisation, number=number)
    if version is None:
        raise HTTPException(status_code=404)
    return _policy_page(request, session, organisation, version)


@router.get("/o/{org}/versions")
def versions_page(org: str, request: Request, session: SessionDep) -> Response:
    """Every version with the date it took (or takes) effect, newest first."""
    organisation = organisation_or_404(session, org)
    current = service.current_version(session=session, organisation=organisation)
    if current is None:
        raise HTTPException(status_code=404)
    lang = choose_language(request, service.version_languages(session=session, version=current))
    today = service.today_in_indonesia()
    versions = service.policy_history(session=session, organisation=organisation)
    response = render_page(
        request,
        "versions.html",
        lang=lang,
        context={
            "organisation": organisation,
            "centre_url": _centre_url(request, organisation),
            "versions": versions,
            "current": current,
            "today": today,
            "published_on": {v.number: service.today_in_indonesia(v.created_at) for v in versions},
            "languages": service.version_languages(session=session, version=current),
        },
        headers={"vary": "Accept-Language, Cookie"},
    )
    _remember_language(request, response, lang)
    return response


@router.get("/o/{org}/policy.html")
def download_html(
    org: str, request: Request, session: SessionDep, version: VersionQuery = None
) -> Response:
    return _download(request, session, org, version, "html")


@router.get("/o/{org}/policy.md")
def download_markdown(
    org: str, request: Request, session: SessionDep, version: VersionQuery = None
) -> Response:
    return _download(request, session, org, version, "md")


def _download(
    request: Request, session: Session, org: str, number: int | None, fmt: PolicyFormat
) -> Response:
    organisation = organisation_or_404(session, org)
    version = (
        service.get_version(session=session, organisation=organisation, number=number)
        if number is not None
        else service.current_version(session=session, organisation=organisation)
    )
    if version is None:
        raise HTTPException(status_code=404)
    lang = choose_language(request, service.version_languages(session=session, version=version))
    policy = service.version_policy(session=session, version=version, lang=lang, fmt=fmt)
    if policy is None:
        raise HTTPException(status_code=404)
    filename = f"{organisation.slug}-v{version.number}-{lang}.{fmt}"
    headers = {
        "content-disposition": f'inline; filename="{filename}"',
        "vary": "Accept-Language, Cookie",
    }
    if fmt == "html":
        headers["content-security-policy"] = DOCUMENT_CSP
        return Response(policy.document, media_type="text/html; charset=utf-8", headers=headers)
    return Response(policy.document, media_type="text/markdown; charset=utf-8", headers=headers)


def _policy_page(
    request: Request, session: Session, organisation: Organisation, version: ManifestVersion
) -> Response:
    languages = service.version_languages(session=session, version=version)
    lang = choose_language(request, languages)
    policy = service.version_policy(session=session, version=version, lang=lang, fmt="html")
    if policy is None:
        raise HTTPException(status_code=404)
    current = service.current_version(session=session, organisation=organisation)
    manifest = service.version_manifest(version)
    context: dict[str, Any] = {
        "organisation": organisation,
        "centre_url": _centre_url(request, organisation),
        "version": version,
        "current": current,
        "is_current": current is not None and current.number == version.number,
        "upcoming": service.upcoming_version(session=session, organisation=organisation),
        "today": service.today_in_indonesia(),
        "policy": Markup(policy.content),  # rendered by jagadata.policy, which escapes the manifest
        "languages": languages,
        "contact": Contact.of(manifest) if manifest else None,
    }
    response = render_page(
        request,
        "centre.html",
        lang=lang,
        context=context,
        headers={"vary": "Accept-Language, Cookie"},
    )
    _remember_language(request, response, lang)
    return response


def _centre_url(request: Request, organisation: Organisation) -> str:
    return f"{request.scope.get('root_path', '')}/o/{organisation.slug}/"


def _remember_language(request: Request, response: Response, lang: str) -> None:
    """A language chosen with the switcher (?lang=) is kept for the visitor's next pages."""
    asked = known_language(request.query_params.get("lang"), (lang,))
    if asked and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=LANG_COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
