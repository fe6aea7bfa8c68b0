"""Builds the parts from settings: store, renderer and service (used by the CLI only)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from redis import exceptions as redis_errors
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialWithJitterBackoff

from bot.config import Settings
from bot.conversation import LANGUAGES
from bot.i18n import Renderer, load_catalogs
from bot.messages import LEGAL_HELP_LANGUAGES, LEGAL_HELP_NONE
from bot.notices import ChatSeal, MemorySubscriptions, Notices, RedisSubscriptions
from bot.notices.store import NOTICE_PREFIX, SubscriptionStore
from bot.operator_texts import OperatorTexts, load_legal_help
from bot.organisations import Organisation, load_organisations
from bot.service import ChatService
from bot.stats import Counting, RedisCounts
from bot.storage import KeyMaker, MemoryStore, RedisStore, StateStore, random_first_version
from bot.storage.redis import AnyRedis

if TYPE_CHECKING:
    from bot.metrics import Metrics

__all__ = [
    "BotIdentity",
    "Parts",
    "build_notices",
    "build_parts",
    "build_store",
    "key_secret",
    "redis_client",
]

logger = logging.getLogger(__name__)

#: Seconds to connect to Redis, and to wait for one reply.
REDIS_TIMEOUT_SECONDS = 2.0
#: Tries again after a lost connection (Redis restarted, an idle socket closed, a master
#: demoted), backing off a little: a dead Redis is still reported within about a second.
REDIS_RETRIES = 2
REDIS_CONNECTIONS = 256


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
    #: The organisations of the legal-help file, by the code in their links.
    organisations: Mapping[str, Organisation] = field(default_factory=dict)
    #: Counts per organisation and week (bot/stats.py), kept where conversations are, and
    #: the metrics' view of each change: the service's `on_change`, closed at exit.
    counting: Counting | None = None
    #: Prometheus metrics, when DECREEBOT_METRICS_LISTEN is set.
    metrics: Metrics | None = None


def _metrics(settings: Settings) -> Metrics | None:
    if settings.metrics_listen is None:
        return None
    from bot.metrics import Metrics  # noqa: PLC0415 - loads telegram: only when asked for

    return Metrics()


def build_store(settings: Settings, *, warn: bool = True) -> StateStore:
    """Redis when configured, else the in-memory store (one process only)."""
    if settings.redis_url:
        return RedisStore(
            redis_client(settings),
            ttl_seconds=settings.session_ttl,
            first_version=random_first_version,
        )
    if warn:
        logger.warning(
            "DECREEBOT_REDIS_URL is not set: conversations are kept in memory, in this process only"
        )
    return MemoryStore(ttl_seconds=settings.session_ttl, first_version=random_first_version)


def redis_client(settings: Settings) -> AnyRedis:
    """The redis-py client the settings name: one Redis, the master Sentinel names, or a
    Redis Cluster. Short timeouts: a dead server becomes "unavailable" within seconds, and
    the client connects again by itself once Redis is back (or another node took over)."""
    assert settings.redis_url is not None
    url = settings.redis_url.get_secret_value()
    options = _redis_options(settings, url)
    if settings.redis_cluster:
        return RedisCluster.from_url(url, **options)
    if settings.redis_sentinels:
        assert settings.redis_sentinel_service is not None
        parts = urlsplit(url)
        node: dict[str, Any] = {
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "db": int(parts.path.strip("/") or 0),
        }
        # The sentinels are reached like the data nodes (TLS included), without credentials.
        sentinels = Sentinel(  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
            settings.sentinel_addresses(), sentinel_kwargs=options, **options
        )
        master: Redis = sentinels.master_for(settings.redis_sentinel_service, **node)
        return master
    return Redis.from_url(url, **options)


def _redis_options(settings: Settings, url: str) -> dict[str, Any]:
    """Connection options shared by every topology: timeouts, retries, keepalive, TLS."""
    options: dict[str, Any] = {
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
        "client_name": "decree-bot",
        # Connections at most (per node); one per command in flight. The bot handles 64
        # updates at once in polling mode; a webhook burst can bring more.
        "max_connections": REDIS_CONNECTIONS,
        # A connection lost (Redis restarted, a failover, an idle socket closed) is tried
        # again on a new one; a timeout is not, so a caller waits at most one timeout.
        # Trying a compare-and-set again is safe: if the first landed, the second sees the
        # new version (CONFLICT) or its update id (DUPLICATE), never a second write.
        "retry": Retry(
            ExponentialWithJitterBackoff(cap=0.25, base=0.05),
            REDIS_RETRIES,
            supported_errors=(redis_errors.ConnectionError,),
        ),
    }
    tls_files = {
        "ssl_ca_certs": settings.redis_ca_file,
        "ssl_certfile": settings.redis_cert_file,
        "ssl_keyfile": settings.redis_key_file,
    }
    tls = urlsplit(url).scheme == "rediss"
    if any(tls_files.values()) and not tls:
        msg = "DECREEBOT_REDIS_CA_FILE, _CERT_FILE and _KEY_FILE need a rediss:// URL"
        raise SystemExit(msg)
    if tls:
        options.update({name: str(path) for name, path in tls_files.items() if path})
        if settings.redis_sentinels:
            options["ssl"] = True  # Sentinel's pools take TLS from here, not from a URL
    return options


def build_notice_store(settings: Settings) -> SubscriptionStore:
    """Subscriptions beside the conversations: Redis when configured, else this process."""
    if settings.redis_url:  # the same Redis, Sentinel or Cluster, TLS and timeouts
        return RedisSubscriptions(redis_client(settings))
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
    organisations = load_organisations(settings.legal_help_file, LANGUAGES)
    renderer = Renderer(
        catalogs,
        ext=OperatorTexts(
            bot_username=lambda: identity.username,
            ttl_seconds=settings.session_ttl,
            legal_help=load_legal_help(settings.legal_help_file, LANGUAGES),
            no_legal_help=lambda lang: catalogs[lang].gettext(LEGAL_HELP_NONE),
            organisations=organisations,
            served_in=lambda lang: catalogs[lang].gettext(LEGAL_HELP_LANGUAGES),
        ),
    )
    counts = RedisCounts(redis_client(settings)) if settings.redis_url else None
    metrics = _metrics(settings)
    service = ChatService(store=store, ttl_seconds=settings.session_ttl)
    counting = None
    if counts is not None or metrics is not None:
        service.on_change = counting = Counting(
            organisations,
            counts,
            also=metrics.count if metrics else None,
            on_error=metrics.redis_errors.inc if metrics else None,
        )
    return Parts(
        settings=settings,
        identity=identity,
        store=store,
        service=service,
        renderer=renderer,
        notice_store=build_notice_store(settings),
        organisations=organisations,
        counting=counting,
        metrics=metrics,
    )
