"""/api/v1/orgs/{org}/api-key, where a system checks which key it is using. Keys are created
and revoked in the console (jagadata.console.keys) or with `jagadata user key`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from jagadata.accounts.deps import ApiCaller, api_key_for

api_router = APIRouter(prefix="/api/v1", tags=["api keys"])


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
