"""jagadata's own database: engine and sessions, the declarative base, packaged migrations."""

from jagadata.db.base import Base, UTCDateTime, load_all_models, utcnow
from jagadata.db.engine import (
    DatabaseUnavailable,
    atomic,
    make_engine,
    ping,
    safe_url,
    session_factory,
)

__all__ = [
    "Base",
    "DatabaseUnavailable",
    "UTCDateTime",
    "atomic",
    "load_all_models",
    "make_engine",
    "ping",
    "safe_url",
    "session_factory",
    "utcnow",
]
