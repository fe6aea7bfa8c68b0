"""Settings: the only code that reads the environment (prefix DECREEBOT_, `.env` supported)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "DEFAULT_API_BASE_URL",
    "MIN_SECRET",
    "Settings",
    "StartupError",
    "describe_invalid",
]

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
#: Shortest key secret (bytes) and webhook secret (characters) accepted.
MIN_SECRET = 32
#: What Telegram accepts as a webhook secret: 1-256 of these; we ask for 32 at least.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{%d,256}" % MIN_SECRET)  # noqa: UP031 - a regex


class StartupError(Exception):
    """The bot cannot start: bad settings, or a service it needs does not answer. The message
    is one line for the operator, with no secret in it."""


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
    #: A secret: its password must never be printed.
    redis_url: SecretStr | None = None
    api_base_url: str = DEFAULT_API_BASE_URL
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    listen: str = "127.0.0.1:8080"
    key_secret: SecretStr | None = None
    #: Seals the chat ids of notice subscriptions; derived from key_secret when not set.
    notice_key: SecretStr | None = None
    session_ttl: int = Field(default=1800, ge=60, le=7 * 24 * 3600)
    bot_username: str | None = None
    legal_help_file: Path | None = None
    log_level: str = "INFO"
    #: New messages this process sends at most in any 1.2 seconds. Telegram allows about 30
    #: a second for the whole bot: with N processes behind one bot, give each 30/N or less.
    overall_rate: int = Field(default=30, ge=1, le=30)

    @field_validator("key_secret")
    @classmethod
    def _long_key_secret(cls, value: SecretStr | None) -> SecretStr | None:
        text = value.get_secret_value() if value is not None else None
        if text is not None and (len(text.encode()) < MIN_SECRET or not text.strip()):
            msg = f"must be at least {MIN_SECRET} random bytes (`decree-bot secret` prints one)"
            raise ValueError(msg)
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            msg = (
                f"must be {MIN_SECRET} to 256 of A-Z, a-z, 0-9, _ and -"
                " (`decree-bot secret` prints one)"
            )
            raise ValueError(msg)
        return value

    @field_validator("webhook_url")
    @classmethod
    def _plain_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            msg = "must be an http(s) address, e.g. https://bot.example.org/telegram/…"
            raise ValueError(msg)
        if parts.query or parts.fragment or "?" in value or "#" in value:
            msg = "must not have a query string or a fragment: Telegram posts to the path"
            raise ValueError(msg)
        return value

    def webhook_path(self) -> str:
        """The path of `webhook_url`, as written (it is matched literally)."""
        return urlsplit(self.webhook_url or "").path or "/"

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            msg = "DECREEBOT_LISTEN must be host:port, e.g. 127.0.0.1:8080"
            raise ValueError(msg)
        return value

    def listen_address(self) -> tuple[str, int]:
        """`listen` split into host and port."""
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


def describe_invalid(error: ValidationError) -> str:
    """One line naming each bad setting, without its value."""
    problems = []
    for item in error.errors():
        name = "DECREEBOT_" + "_".join(str(part) for part in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{name} {message}")
    return "; ".join(problems)
