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

    redis_url: str | None = Field(
        default=None,
        description="Redis for the job queue (redis://host:6379/0); without it the queue is a "
        "SQLite file in data_dir and `jagadata serve` runs the worker itself.",
    )
    keys: str | None = Field(
        default=None,
        description="The encryption keyring as JSON (see docs/deployment.md); takes precedence "
        "over key_file. Required in production unless key_file is set.",
    )
    key_file: Path | None = Field(
        default=None,
        description="Path of the keyring file; defaults to data_dir/keys.json, created on first "
        "use in development only.",
    )
    session_idle_minutes: int = Field(
        default=30, ge=1, description="A console session ends after this long without activity."
    )
    session_absolute_hours: int = Field(
        default=12, ge=1, description="A console session ends this long after sign-in, always."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for email.")
    smtp_port: int = Field(default=587, description="SMTP port (587 STARTTLS, 465 TLS, 25).")
    smtp_username: str | None = Field(default=None, description="SMTP user name.")
    smtp_password: str | None = Field(default=None, description="SMTP password.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="How the SMTP connection is secured."
    )
    mail_from: str = Field(
        default="jagadata <noreply@localhost>", description="Sender of email jagadata sends."
    )
    whatsapp_api_url: str = Field(
        default="https://graph.facebook.com/v21.0",
        description="Base URL of the WhatsApp Cloud API.",
    )
    whatsapp_token: str | None = Field(default=None, description="WhatsApp Cloud API token.")
    whatsapp_app_secret: str | None = Field(
        default=None,
        description="App secret that signs WhatsApp webhook calls (X-Hub-Signature-256); "
        "without it incoming WhatsApp messages are refused.",
    )
    whatsapp_verify_token: str | None = Field(
        default=None,
        description="Token the WhatsApp webhook subscription echoes when it is first verified.",
    )
    whatsapp_phone_number_id: str | None = Field(
        default=None, description="The WhatsApp Business phone number id messages are sent from."
    )

    @property
    def secure_cookies(self) -> bool:
        """Cookies are HTTPS-only unless the service itself is reached over plain HTTP."""
        return self.mode == "production" or self.base_url.startswith("https://")

    @property
    def effective_key_file(self) -> Path:
        return self.key_file or self.data_dir / "keys.json"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'jagadata.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
