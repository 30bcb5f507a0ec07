"""Alembic environment: migrations run on the connection jagadata hands over (see db.migrate)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.types import TypeDecorator

from jagadata.db.base import load_all_models
from jagadata.db.engine import make_engine

target_metadata = load_all_models()


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write jagadata's column types as the plain SQLAlchemy types they are stored as."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def run_migrations(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set sqlalchemy.url or use `jagadata db upgrade`")
    engine = make_engine(url)
    with engine.begin() as own_connection:
        run_migrations(own_connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; use `jagadata db upgrade`")
main()
