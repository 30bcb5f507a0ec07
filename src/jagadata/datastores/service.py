"""Connections to an organisation's databases: the URL held encrypted by jagadata (or named
by an environment variable), never written in the manifest; and the key pseudonyms are made
with, the same for one organisation across every run."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from jagadata.crypto.keyring import get_keyring
from jagadata.datastores.errors import ConnectionFailed
from jagadata.datastores.models import DatastoreSecret
from jagadata.i18n import N_
from jagadata.manifest.mapping import Datastore

NO_SECRET: Final = N_("no connection secret called '{name}' is stored for this organisation")
NO_SECRET_HINT: Final = N_("store it with `jagadata datastore connect {org} {name} URL`")
NO_ENV: Final = N_("the environment variable {variable} holding the database URL is not set")
NO_ENV_HINT: Final = N_("set it for `jagadata serve` and `jagadata worker`")
BAD_SECRET_URL: Final = N_("this is not a database URL: {reason}")
BAD_SECRET_URL_HINT: Final = N_(
    "write it as postgresql+psycopg://user:password@host/db, mysql+pymysql://user:password@host/db "
    "or sqlite:////absolute/path/file.db"
)


def _now() -> datetime:
    return datetime.now(UTC)


def store_secret(session: Session, organisation_id: int, name: str, url: str) -> DatastoreSecret:
    """Keep (or replace) the connection URL called `name`, encrypted at rest."""
    try:
        make_url(url)
    except ArgumentError as error:
        raise ConnectionFailed(
            BAD_SECRET_URL, hint=BAD_SECRET_URL_HINT, reason=str(error).splitlines()[0]
        ) from None
    secret = session.scalars(
        select(DatastoreSecret).where(
            DatastoreSecret.organisation_id == organisation_id, DatastoreSecret.name == name
        )
    ).one_or_none()
    moment = _now()
    if secret is None:
        secret = DatastoreSecret(
            organisation_id=organisation_id, name=name, url=url, created_at=moment
        )
        session.add(secret)
    secret.url = url
    secret.updated_at = moment
    session.flush()
    return secret


def resolve_url(
    session: Session, organisation_id: int, datastore: Datastore, *, org_slug: str = "ORG"
) -> str:
    """The database URL a mapping's `connection` names, or a ConnectionFailed saying how to
    provide it."""
    connection = datastore.connection
    if connection.env is not None:
        url = os.environ.get(connection.env)
        if not url:
            raise ConnectionFailed(NO_ENV, hint=NO_ENV_HINT, variable=connection.env)
        return url
    assert connection.secret is not None
    secret = session.scalars(
        select(DatastoreSecret).where(
            DatastoreSecret.organisation_id == organisation_id,
            DatastoreSecret.name == connection.secret,
        )
    ).one_or_none()
    if secret is None:
        raise ConnectionFailed(NO_SECRET, hint=NO_SECRET_HINT, name=connection.secret, org=org_slug)
    return secret.url


def pseudonym_key(organisation_id: int) -> bytes:
    """The organisation's key for pseudonyms: derived from jagadata's lookup key, so the same
    value gets the same pseudonym in every run and every database of the organisation."""
    return bytes.fromhex(get_keyring().lookup_hash("datastore-pseudonym", f"org:{organisation_id}"))
