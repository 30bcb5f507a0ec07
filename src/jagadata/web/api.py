"""The JSON API (/api/v1/) and the health check; the OpenAPI description is at /openapi.json."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from jagadata.db import DatabaseUnavailable, ping
from jagadata.db.migrate import current_revision
from jagadata.i18n import N_, gettext, negotiate
from jagadata.orgs import service
from jagadata.orgs.schemas import (
    HealthPublic,
    ManifestVersionPublic,
    PolicyVersionPublic,
    VersionHistoryPublic,
)
from jagadata.web.deps import MAX_VERSION, ORG_SLUG_PATTERN, SessionDep, organisation_or_404

router = APIRouter(prefix="/api/v1", tags=["policy"])
health_router = APIRouter(tags=["operations"])

OrgSlug = Annotated[
    str,
    Path(
        pattern=ORG_SLUG_PATTERN,
        description="The organisation's slug, as in /o/{org}/.",
        examples=["la-gelato-academy"],
    ),
]


class ErrorPublic(BaseModel):
    detail: str


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "No such organisation or version."}
}


def _t(lang: str, message: str) -> str:
    return gettext(lang, message, "web")


def _not_found(request: Request, message: str) -> HTTPException:
    lang = negotiate(request.headers.get("accept-language"))
    return HTTPException(status_code=404, detail=_t(lang, message))


@router.get("/orgs/{org}/policy", response_model=PolicyVersionPublic, responses=NOT_FOUND)
def get_policy(
    org: OrgSlug,
    request: Request,
    session: SessionDep,
    lang: Annotated[Literal["id", "en", "fr"], Query(description="Language of the policy.")] = "id",
    format: Annotated[Literal["html", "md"], Query(description="html or md (Markdown).")] = "html",
    version: Annotated[
        int | None, Query(ge=1, le=MAX_VERSION, description="A version number; default: in force.")
    ] = None,
) -> PolicyVersionPublic:
    """The policy in force today (or the given version) in one language and format."""
    organisation = organisation_or_404(session, org)
    manifest_version = (
        service.get_version(session=session, organisation=organisation, number=version)
        if version is not None
        else service.current_version(session=session, organisation=organisation)
    )
    if manifest_version is None:
        raise _not_found(request, N_("This organisation has no such policy version."))
    policy = service.version_policy(
        session=session, version=manifest_version, lang=lang, fmt=format
    )
    if policy is None:
        raise _not_found(request, N_("This policy version was not published in that language."))
    return PolicyVersionPublic(
        organisation=organisation.slug,
        version=manifest_version.number,
        lang=lang,
        format=format,
        effective=policy.effective,
        published_at=policy.published_at,
        content_hash=policy.content_hash,
        document=policy.document,
        fragment=policy.content,
    )


@router.get("/orgs/{org}/versions", response_model=VersionHistoryPublic, responses=NOT_FOUND)
def get_versions(org: OrgSlug, session: SessionDep) -> VersionHistoryPublic:
    """Every published version of the organisation's manifest, newest first."""
    organisation = organisation_or_404(session, org)
    current = service.current_version(session=session, organisation=organisation)
    versions = service.policy_history(session=session, organisation=organisation)
    return VersionHistoryPublic(
        organisation=organisation.slug,
        current=current.number if current else None,
        versions=[ManifestVersionPublic.model_validate(v) for v in versions],
    )


@health_router.get(
    "/healthz",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "The database cannot be used."}},
)
def healthz(request: Request) -> JSONResponse:
    """Whether the service can use its database (and it is migrated); 503 with the reason if not."""
    engine = request.app.state.engine
    headers = {"cache-control": "no-store"}
    try:
        ping(engine)
        at = current_revision(engine)
    except DatabaseUnavailable:
        body = HealthPublic(status="unavailable", database="unreachable")
        return JSONResponse(body.model_dump(), status_code=503, headers=headers)
    if at != request.app.state.head_revision:
        body = HealthPublic(status="unavailable", database="migrations pending")
        return JSONResponse(body.model_dump(), status_code=503, headers=headers)
    return JSONResponse(HealthPublic(status="ok", database="ok").model_dump(), headers=headers)
