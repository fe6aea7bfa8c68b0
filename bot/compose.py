"""Builds the parts from settings: store, renderer and service (used by the CLI only)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from bot.config import Settings
from bot.conversation import LANGUAGES
from bot.i18n import Renderer, load_catalogs
from bot.messages import LEGAL_HELP_NONE
from bot.notices import ChatSeal, MemorySubscriptions, Notices, RedisSubscriptions
from bot.notices.store import NOTICE_PREFIX, SubscriptionStore
from bot.operator_texts import OperatorTexts, load_legal_help
from bot.service import ChatService
from bot.storage import KeyMaker, MemoryStore, RedisStore, StateStore, random_first_version

__all__ = ["BotIdentity", "Parts", "build_notices", "build_parts", "build_store", "key_secret"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class BotIdentity:
    """The bot's username: from the settings, or set once when Telegram tells us who we are."""

    username: str | None = None


@dataclass(frozen=True, slots=True)
class Parts:
    """The service and renderer an adapter needs, and who the bot is."""

    settings: Settings
    identity: BotIdentity
    store: StateStore
    service: ChatService
    renderer: Renderer
    #: Notice subscriptions ("Tell me if this changes"), beside the conversations.
    notice_store: SubscriptionStore


def build_store(settings: Settings, *, warn: bool = True) -> StateStore:
    """Redis when configured, else the in-memory store (one process only)."""
    if settings.redis_url:
        return RedisStore.from_url(
            settings.redis_url.get_secret_value(),
            ttl_seconds=settings.session_ttl,
            first_version=random_first_version,
        )
    if warn:
        logger.warning(
            "DECREEBOT_REDIS_URL is not set: conversations are kept in memory, in this process only"
        )
    return MemoryStore(ttl_seconds=settings.session_ttl, first_version=random_first_version)


def build_notice_store(settings: Settings) -> SubscriptionStore:
    """Subscriptions beside the conversations: Redis when configured, else this process."""
    if settings.redis_url:
        from redis.asyncio import Redis  # noqa: PLC0415 - only with Redis

        return RedisSubscriptions(Redis.from_url(settings.redis_url.get_secret_value()))
    return MemorySubscriptions()


def build_notices(parts: Parts, *, key_secret: bytes, bot_id: int) -> Notices:
    """Notices keyed like conversations (the chat's HMAC), chat ids sealed with the notice key."""
    notice_key = parts.settings.notice_key
    seal_secret = notice_key.get_secret_value().encode() if notice_key else key_secret
    return Notices(
        parts.notice_store,
        ChatSeal(seal_secret),
        KeyMaker(key_secret, bot_id, prefix=NOTICE_PREFIX),
    )


def key_secret(settings: Settings) -> bytes:
    """The HMAC secret for conversation keys; required with Redis, where keys outlive us."""
    if settings.key_secret is not None:
        return settings.key_secret.get_secret_value().encode()
    if settings.redis_url:
        msg = "set DECREEBOT_KEY_SECRET (a long random string) when DECREEBOT_REDIS_URL is set"
        raise SystemExit(msg)
    return secrets.token_bytes(32)


def build_parts(settings: Settings, *, warn_memory: bool = True) -> Parts:
    """Everything an adapter needs: opens the store, reads the catalogs and the legal help."""
    identity = BotIdentity(settings.bot_username)
    store = build_store(settings, warn=warn_memory)
    catalogs = load_catalogs()
    renderer = Renderer(
        catalogs,
        ext=OperatorTexts(
            bot_username=lambda: identity.username,
            ttl_seconds=settings.session_ttl,
            legal_help=load_legal_help(settings.legal_help_file, LANGUAGES),
            no_legal_help=lambda lang: catalogs[lang].gettext(LEGAL_HELP_NONE),
        ),
    )
    return Parts(
        settings=settings,
        identity=identity,
        store=store,
        service=ChatService(store=store, ttl_seconds=settings.session_ttl),
        renderer=renderer,
        notice_store=build_notice_store(settings),
    )
