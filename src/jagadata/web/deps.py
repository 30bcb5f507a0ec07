"""What routes receive: a database session per request, and the organisation in the path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Final

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from jagadata.orgs import service
from jagadata.orgs.models import Organisation

ORG_SLUG_PATTERN: Final = r"^[a-z0-9][a-z0-9-]{1,62}$"
MAX_VERSION: Final = 2**31 - 1


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def organisation_or_404(session: Session, slug: str) -> Organisation:
    """The organisation, or the same 404 whether the slug is malformed or simply unknown."""
    organisation = (
        service.get_organisation(session=session, slug=slug)
        if re.fullmatch(ORG_SLUG_PATTERN, slug)
        else None
    )
    if organisation is None:
        raise HTTPException(status_code=404)
    return organisation
