"""API keys of the organisation: list (with last use), create with scopes (the key is shown
once), revoke. Each change is audited by the keys service (`api_key.created`, `.revoked`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from jagadata.accounts import keys
from jagadata.accounts.deps import Member, now_of, require_role
from jagadata.accounts.roles import Action
from jagadata.audit.service import Actor
from jagadata.console.render import render
from jagadata.db import atomic
from jagadata.web.deps import SessionDep

router = APIRouter(include_in_schema=False)

KeyManager = Annotated[Member, Depends(require_role(Action.MANAGE_API_KEYS))]


def _keys_page(
    request: Request,
    session: Session,
    member: Member,
    *,
    new_token: str | None = None,
    error: bool = False,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "console/keys.html",
        signed_in=member.signed_in,
        member=member,
        section="keys",
        status_code=status_code,
        context={
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
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/admin/o/{member.organisation.slug}/keys", status_code=303)
