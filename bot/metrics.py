"""Operator metrics for Prometheus, on a separate address (DECREEBOT_METRICS_LISTEN).

Off by default. What is measured is the bot's work, never a person: updates by kind,
replies, errors, Telegram's 429 answers, how long new messages waited for Telegram's pace,
Redis errors, the conversations kept now, and the outcome counters by language and
organisation code (a code the operator listed, "none" or "unknown"), nothing finer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.error import RetryAfter, TelegramError
from telegram.ext import Application, BaseRateLimiter, ContextTypes, TypeHandler

from bot.stats import Tally
from bot.storage import MemoryStore, StateStore
from bot.storage.keys import DEFAULT_PREFIX

__all__ = ["MeteredLimiter", "Metrics", "conversations_kept", "inner_limiter", "metered"]

logger = logging.getLogger(__name__)

#: Calls that put a reply in a chat.
_REPLIES = frozenset({"sendMessage", "editMessageText", "answerInlineQuery"})
_NEW_MESSAGES = frozenset({"sendMessage"})
_UPDATE_KINDS = ("message", "callback_query", "inline_query", "my_chat_member")
#: Seconds; Telegram's pace is one message a second per chat, its flood waits are seconds.
_WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)

_Callback = Callable[..., Coroutine[Any, Any, Any]]


class Metrics:
    """The bot's counters in their own registry (several bots in one test process)."""

    def __init__(self) -> None:
        # Loaded only when metrics are on (DECREEBOT_METRICS_LISTEN): ~0.6 MiB and ~8 ms.
        from prometheus_client import (  # noqa: PLC0415
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
        )

        self.registry = registry = CollectorRegistry()
        self.updates = Counter(
            "decreebot_updates", "Updates received, by kind", ["kind"], registry=registry
        )
        self.replies = Counter(
            "decreebot_replies", "Replies delivered, by Bot API method", ["method"],
            registry=registry,
        )  # fmt: skip
        self.errors = Counter(
            "decreebot_errors",
            "Errors: in handling an update, or a Bot API call that failed",
            ["where"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "decreebot_rate_limited", "429 answers from Telegram", registry=registry
        )
        self.flood_violations = Counter(
            "decreebot_sent_in_flood_wait",
            "Requests sent during a flood wait this process knew of (violations; should be 0)",
            registry=registry,
        )
        self.budget_wait = Histogram(
            "decreebot_budget_wait_seconds",
            "How long a new message waited for Telegram's pace (its chat's, flood waits)",
            buckets=_WAIT_BUCKETS,
            registry=registry,
        )
        self.redis_errors = Counter(
            "decreebot_redis_errors", "Redis calls that failed (counts or conversations)",
            registry=registry,
        )  # fmt: skip
        self.conversations = Gauge(
            "decreebot_conversations_in_progress",
            "Conversations kept now (not yet expired or forgotten)",
            registry=registry,
        )
        self.started = Counter(
            "decreebot_conversations_started", "Conversations started, by organisation",
            ["org"], registry=registry,
        )  # fmt: skip
        self.results = Counter(
            "decreebot_results",
            "Results shown, by outcome, language and organisation",
            ["outcome", "lang", "org"],
            registry=registry,
        )

    def count(self, counted: Tally) -> None:
        """The outcome counters for one change (see bot/stats.py)."""
        if "started" in counted.fields:
            self.started.labels(counted.org).inc()
        if counted.outcome is not None and counted.lang is not None:
            self.results.labels(counted.outcome, counted.lang, counted.org).inc()

    def measure_conversations(self, count: Callable[[], int | None]) -> None:
        """The gauge of conversations, read at each scrape (None: unknown just now)."""

        def read() -> float:
            try:
                found = count()
            except Exception:  # a scrape must answer; the failure is counted
                self.redis_errors.inc()
                return float("nan")
            return float("nan") if found is None else float(found)

        self.conversations.set_function(read)

    async def on_update(self, update: object, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A PTB handler in its own group: counts every update by kind."""
        kind = "other"
        if isinstance(update, Update):
            kind = next((k for k in _UPDATE_KINDS if getattr(update, k, None)), "other")
        self.updates.labels(kind).inc()

    async def on_error(self, _update: object, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A PTB error handler: counts errors in handling an update."""
        self.errors.labels("handler").inc()

    def install(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Count the application's updates and handler errors."""
        application.add_handler(TypeHandler(object, self.on_update), group=-1)
        application.add_error_handler(self.on_error)

    def serve(self, host: str, port: int) -> Callable[[], None]:
        """Serve `/metrics` on host:port in a thread; returns what stops it."""
        from prometheus_client import start_http_server  # noqa: PLC0415

        server, thread = start_http_server(port, addr=host, registry=self.registry)

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(5)

        return stop


class MeteredLimiter(BaseRateLimiter[Any]):
    """Wraps the bot's rate limiter: counts replies, 429s and failed calls, and how long a
    new message waited before its first attempt went out."""

    def __init__(self, inner: BaseRateLimiter[Any], metrics: Metrics) -> None:
        self.inner = inner
        self._metrics = metrics

    async def initialize(self) -> None:
        """The wrapped limiter's."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """The wrapped limiter's."""
        await self.inner.shutdown()

    async def process_request(  # noqa: PLR0917 - the signature is PTB's
        self,
        callback: _Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Any,
    ) -> Any:
        """Send through the wrapped limiter, measuring each attempt."""
        metrics = self._metrics
        began = time.monotonic()
        waiting = endpoint in _NEW_MESSAGES

        async def attempt(*a: Any, **kw: Any) -> Any:
            nonlocal waiting
            if waiting:
                waiting = False
                metrics.budget_wait.observe(time.monotonic() - began)
            try:
                result = await callback(*a, **kw)
            except RetryAfter:
                metrics.rate_limited.inc()
                raise
            except TelegramError:
                metrics.errors.labels("api").inc()
                raise
            if endpoint in _REPLIES:
                metrics.replies.labels(endpoint).inc()
            return result

        return await self.inner.process_request(
            attempt, args, kwargs, endpoint, data, rate_limit_args
        )


def metered(limiter: BaseRateLimiter[Any], metrics: Metrics | None) -> BaseRateLimiter[Any]:
    """The limiter, measured when metrics are on."""
    return limiter if metrics is None else MeteredLimiter(limiter, metrics)


def inner_limiter(limiter: object) -> object:
    """The bot's own limiter, under the measuring wrapper if there is one."""
    return limiter.inner if isinstance(limiter, MeteredLimiter) else limiter


def conversations_kept(store: StateStore, redis_url: str | None) -> Callable[[], int | None]:
    """How to count the conversations kept now, at a scrape (in the server's thread): the
    keys under the conversations' prefix in Redis, or the in-memory store's entries."""
    if isinstance(store, MemoryStore):
        return lambda: len(store)
    if redis_url is None:
        return lambda: None
    from redis import Redis  # noqa: PLC0415 - a blocking client, for the scrape's thread

    client = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)

    def count() -> int:
        return sum(1 for _ in client.scan_iter(match=f"{DEFAULT_PREFIX}*", count=1000))

    return count
