"""Builds the parts from settings: store, renderer and service (used by the CLI only)."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.conversation import LANGUAGES
from bot.i18n import Renderer, load_catalogs
from bot.messages import LEGAL_HELP_LANGUAGES, LEGAL_HELP_NONE
from bot.operator_texts import OperatorTexts, load_legal_help
from bot.organisations import load_organisations
from bot.service import ChatService
from bot.stats import Counting, RedisCounts
from bot.storage import MemoryStore, RedisStore, StateStore, random_first_version

if TYPE_CHECKING:
    from bot.metrics import Metrics

__all__ = ["Parts", "build_parts", "key_secret"]

logger = logging.getLogger(__name__)


class Parts:
    """The service and renderer an adapter needs, and a place for the bot's username."""

    def __init__(self, settings: Settings, *, warn_memory: bool = True) -> None:
        self.settings = settings
        self.username: str | None = settings.bot_username
        self.store = build_store(settings, warn=warn_memory)
        self.service = ChatService(store=self.store, ttl_seconds=settings.session_ttl)
        catalogs = load_catalogs()
        legal_help = load_legal_help(settings.legal_help_file, LANGUAGES)
        self.organisations = load_organisations(settings.legal_help_file, LANGUAGES)
        #: Counts per organisation and week (bot/stats.py), kept where conversations are.
        self.counts = RedisCounts(settings.redis_url) if settings.redis_url else None
        self.metrics = _metrics(settings)
        if self.counts is not None or self.metrics is not None:
            self.service.on_change = Counting(
                self.organisations,
                self.counts,
                also=self.metrics.count if self.metrics else None,
                on_error=self.metrics.redis_errors.inc if self.metrics else None,
            )
        self.renderer = Renderer(
            catalogs,
            ext=OperatorTexts(
                bot_username=lambda: self.username,
                ttl_seconds=settings.session_ttl,
                legal_help=legal_help,
                no_legal_help=lambda lang: catalogs[lang].gettext(LEGAL_HELP_NONE),
                organisations=self.organisations,
                served_in=lambda lang: catalogs[lang].gettext(LEGAL_HELP_LANGUAGES),
            ),
        )


def _metrics(settings: Settings) -> Metrics | None:
    if settings.metrics_listen is None:
        return None
    from bot.metrics import Metrics  # noqa: PLC0415 - loads telegram: only when asked for

    return Metrics()


def build_store(settings: Settings, *, warn: bool = True) -> StateStore:
    """Redis when configured, else the in-memory store (one process only)."""
    if settings.redis_url:
        return RedisStore.from_url(
            settings.redis_url,
            ttl_seconds=settings.session_ttl,
            first_version=random_first_version,
        )
    if warn:
        logger.warning(
            "DECREEBOT_REDIS_URL is not set: conversations are kept in memory, in this process only"
        )
    return MemoryStore(ttl_seconds=settings.session_ttl, first_version=random_first_version)


def key_secret(settings: Settings) -> bytes:
    """The HMAC secret for conversation keys; required with Redis, where keys outlive us."""
    if settings.key_secret is not None:
        return settings.key_secret.get_secret_value().encode()
    if settings.redis_url:
        msg = "set DECREEBOT_KEY_SECRET (a long random string) when DECREEBOT_REDIS_URL is set"
        raise SystemExit(msg)
    return secrets.token_bytes(32)


def build_parts(settings: Settings, *, warn_memory: bool = True) -> Parts:
    """Everything an adapter needs."""
    return Parts(settings, warn_memory=warn_memory)
