"""Settings: the only code that reads the environment (prefix DECREEBOT_, `.env` supported)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
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
    #: redis://, rediss:// (TLS) or unix://; a secret, as it may hold the password. With
    #: Sentinel it names only the database and credentials; with Cluster, any one node.
    redis_url: SecretStr | None = None
    #: A private CA for rediss:// (PEM), and a client certificate and key for mutual TLS.
    redis_ca_file: Path | None = None
    redis_cert_file: Path | None = None
    redis_key_file: Path | None = None
    #: Sentinels as host:port,host:port; with them the master is found by its service name.
    redis_sentinels: str | None = None
    redis_sentinel_service: str | None = None
    #: The Redis URL names one node of a Redis Cluster.
    redis_cluster: bool = False
    api_base_url: str = DEFAULT_API_BASE_URL
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    listen: str = "127.0.0.1:8080"
    #: Answer Telegram's webhook before a reply that must wait long (a surge) has been sent,
    #: so that Telegram keeps sending updates; a worker that dies during that wait loses
    #: those replies (bot/adapters/telegram/early.py). Off: every update is answered after
    #: its reply, and Telegram delivers it again if the worker dies.
    webhook_early_answers: bool = False
    key_secret: SecretStr | None = None
    #: Seals the chat ids of notice subscriptions; derived from key_secret when not set.
    notice_key: SecretStr | None = None
    #: Seconds a conversation is kept after its last change; at least 10 minutes, so that the
    #: dedupe (bot.storage.base.RECENT_LIMIT) covers any update delivered again within them.
    session_ttl: int = Field(default=1800, ge=600, le=7 * 24 * 3600)
    bot_username: str | None = None
    legal_help_file: Path | None = None
    log_level: str = "INFO"
    #: Replies a second for the whole fleet, if the operator wants a ceiling (unset: none;
    #: replies go as fast as each chat's pace and Telegram's flood waits allow).
    reply_rate_cap: float | None = Field(default=None, gt=0, le=1000)
    #: Messages a second the bot starts itself (notices), for the whole fleet; they always
    #: yield to replies. Telegram: "not more than about 30 a second" for bulk notifications.
    bulk_rate: float = Field(default=30.0, gt=0, le=1000)
    #: host:port for Prometheus' /metrics, apart from the webhook (unset: no metrics).
    metrics_listen: str | None = None

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

    @field_validator("listen", "metrics_listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            msg = "must be host:port, e.g. 127.0.0.1:8080"
            raise ValueError(msg)
        return value

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels(cls, value: str | None) -> str | None:
        if value is not None:
            for item in value.split(","):
                host, sep, port = item.strip().rpartition(":")
                if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                    msg = "DECREEBOT_REDIS_SENTINELS must be host:port,host:port"
                    raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _one_redis_topology(self) -> Settings:
        if self.redis_sentinels and self.redis_cluster:
            msg = "set DECREEBOT_REDIS_SENTINELS or DECREEBOT_REDIS_CLUSTER, not both"
            raise ValueError(msg)
        if self.redis_sentinels and not self.redis_sentinel_service:
            msg = "DECREEBOT_REDIS_SENTINELS needs DECREEBOT_REDIS_SENTINEL_SERVICE"
            raise ValueError(msg)
        if (self.redis_sentinels or self.redis_cluster) and self.redis_url is None:
            msg = "DECREEBOT_REDIS_URL is needed with Sentinel or Cluster"
            raise ValueError(msg)
        return self

    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """`redis_sentinels` as (host, port) pairs."""
        if not self.redis_sentinels:
            return []
        pairs = (item.strip().rpartition(":") for item in self.redis_sentinels.split(","))
        return [(host.strip("[]"), int(port)) for host, _, port in pairs]

    def listen_address(self) -> tuple[str, int]:
        """`listen` split into host and port."""
        return _split(self.listen)

    def metrics_address(self) -> tuple[str, int] | None:
        """`metrics_listen` split into host and port, or None (no metrics)."""
        return _split(self.metrics_listen) if self.metrics_listen else None


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def describe_invalid(error: ValidationError) -> str:
    """One line naming each bad setting, without its value."""
    problems = []
    for item in error.errors():
        name = "DECREEBOT_" + "_".join(str(part) for part in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{name} {message}" if item["loc"] else message)  # a rule on several
    return "; ".join(problems)
