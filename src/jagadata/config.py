"""Settings, read from JAGADATA_* environment variables (and a .env file) — never at import time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Language = Literal["id", "en", "fr"]


class Settings(BaseSettings):
    """One table of settings: each field's description feeds `jagadata settings` and docs."""

    model_config = SettingsConfigDict(env_prefix="JAGADATA_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="Directory for the embedded default: the SQLite database, keys, queue.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of jagadata's own database; defaults to SQLite in data_dir. "
        "Use postgresql+psycopg://user@host/db in production.",
    )
    mode: Literal["development", "production"] = Field(
        default="development",
        description="production refuses unsafe defaults (missing keys, plain HTTP cookies).",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of the service, used in links sent to people.",
    )
    host: str = Field(default="127.0.0.1", description="Address `jagadata serve` listens on.")
    port: int = Field(default=8000, description="Port `jagadata serve` listens on.")
    lang: Language = Field(
        default="id",
        description="Language of the command line and of messages when a person's is unknown.",
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'jagadata.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
