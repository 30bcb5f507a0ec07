"""API keys in the console (/admin/o/{org}/keys: list, create — the key shown once — revoke)
and /api/v1/orgs/{org}/api-key, where a system checks which key it is using."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from jagadata.accounts import keys
from jagadata.accounts.deps import ApiCaller, Member, api_key_for, now_of, require_role
from jagadata.accounts.roles import Action
from jagadata.accounts.templating import render
from jagadata.audit.service import Actor
from jagadata.db import atomic
from jagadata.web.deps import SessionDep
from jagadata.web.templating import choose_language

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["api keys"])

KeyManager = Annotated[Member, Depends(require_role(Action.MANAGE_API_KEYS))]


def _keys_page(
    request: Request,
    session: SessionDep,
    member: Member,
    *,
    new_token: str | None = None,
    error: bool = False,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "accounts/keys.html",
        lang=choose_language(request),
        status_code=status_code,
        context={
            "organisation": member.organisation,
            "keys": keys.list_keys(session=session, organisation_id=member.organisation.id),
            "scopes": keys.SCOPE_LABELS,
            "new_token": new_token,
            "error": error,
        },
    )


@router.get("/admin/o/{org}/keys")
def keys_page(request: Request, session: SessionDep, member: KeyManager) -> Response:
    return _keys_page(request, session, member)


@router.post("/admin/o/{org}/keys")
def create_key(
    request: Request,
    session: SessionDep,
    member: KeyManager,
    name: Annotated[str, Form(max_length=100)] = "",
    scope: Annotated[list[str] | None, Form()] = None,
) -> Response:
    try:
        with atomic(session):
            _key, token = keys.create_key(
                session=session,
                organisation_id=member.organisation.id,
                name=name,
                scopes=scope or [],
                actor=Actor.user(member.user.id),
                created_by=member.user.id,
                now=now_of(request),
            )
    except ValueError:
        return _keys_page(request, session, member, error=True, status_code=422)
    return _keys_page(request, session, member, new_token=token)


@router.post("/admin/o/{org}/keys/{key_id}/revoke")
def revoke_key(key_id: int, request: Request, session: SessionDep, member: KeyManager) -> Response:
    try:
        with atomic(session):
            keys.revoke_key(
                session=session,
                organisation_id=member.organisation.id,
                key_id=key_id,
                actor=Actor.user(member.user.id),
                now=now_of(request),
            )
    except keys.KeyNotFound:
        raise HTTPException(status_code=404) from None
    return RedirectResponse(
        f"{request.scope.get('root_path', '')}/admin/o/{member.organisation.slug}/keys",
        status_code=303,
    )


class ApiKeyPublic(BaseModel):
    """The key a request was made with (never its secret)."""

    organisation: str = Field(examples=["la-gelato-academy"])
    name: str
    prefix: str = Field(description="The part after jd_ that identifies the key.")
    scopes: list[str] = Field(examples=[["consent:read", "consent:write"]])
    created_at: datetime
    last_used_at: datetime | None


@api_router.get(
    "/orgs/{org}/api-key",
    response_model=ApiKeyPublic,
    responses={
        401: {"description": "No API key, or an unknown or revoked one."},
        404: {"description": "No such organisation for this key."},
    },
)
def this_api_key(caller: Annotated[ApiCaller, Depends(api_key_for())]) -> ApiKeyPublic:
    """Which key this is, its scopes and when it was last used: a check for a new integration."""
    key = caller.key
    return ApiKeyPublic(
        organisation=caller.organisation.slug,
        name=key.name,
        prefix=key.prefix,
        scopes=list(key.scopes),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
    )
