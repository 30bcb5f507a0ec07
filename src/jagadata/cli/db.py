"""`jagadata db upgrade|current`: the commands live with the database code, in jagadata.db."""

from __future__ import annotations

from jagadata.db.commands import app, migrated_engine, migrated_session

__all__ = ["app", "migrated_engine", "migrated_session"]
