"""Settings: the only code that reads the environment (prefix DECREEBOT_, `.env` supported)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_API_BASE_URL", "Settings"]

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"


class Settings(BaseSettings):
    """Everything an operator can configure. See `.env.example` for each setting."""

    model_config = SettingsConfigDict(
        env_prefix="DECREEBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # an empty line in .env means "not set", not ""
        extra="ignore",
    )

    token: SecretStr | None = None
    redis_url: str | None = None
    api_base_url: str = DEFAULT_API_BASE_URL
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    listen: str = "127.0.0.1:8080"
    key_secret: SecretStr | None = None
    session_ttl: int = Field(default=1800, ge=60, le=7 * 24 * 3600)
    bot_username: str | None = None
    legal_help_file: Path | None = None
    log_level: str = "INFO"
    #: New messages this process sends at most in any 1.2 seconds. Telegram allows about 30
    #: a second for the whole bot: with N processes behind one bot, give each 30/N or less.
    overall_rate: int = Field(default=30, ge=1, le=30)
    #: host:port for Prometheus' /metrics, apart from the webhook (unset: no metrics).
    metrics_listen: str | None = None

    @field_validator("listen", "metrics_listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            msg = "an address must be host:port, e.g. 127.0.0.1:8080"
            raise ValueError(msg)
        return value

    def listen_address(self) -> tuple[str, int]:
        """`listen` split into host and port."""
        return _split(self.listen)

    def metrics_address(self) -> tuple[str, int] | None:
        """`metrics_listen` split into host and port, or None (no metrics)."""
        return _split(self.metrics_listen) if self.metrics_listen else None


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)
