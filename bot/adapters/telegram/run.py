"""Running the bot: long polling, or a webhook server; both stop cleanly on an event.

A start that cannot work (Redis or the Bot API not answering, a webhook Telegram refuses)
raises `StartupError` with one line for the operator; the CLI prints it and exits 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from telegram.error import InvalidToken, TelegramError

from bot.adapters.telegram import inline
from bot.adapters.telegram.app import ALLOWED_UPDATES, build_application, prepare
from bot.adapters.telegram.endpoints import AnyApplication
from bot.adapters.telegram.webhook import MAX_CONNECTIONS, WebhookServer
from bot.compose import Parts
from bot.config import StartupError
from bot.metrics import conversations_kept

__all__ = ["RESERVED_FILES", "raise_file_limit", "serve_polling", "serve_webhook"]

logger = logging.getLogger(__name__)

#: Open files kept free of webhook connections: Bot API and Redis connections, logs.
RESERVED_FILES = 512


def raise_file_limit() -> int:
    """Raise the open-file soft limit to the hard limit (Docker's soft default, 1,024, is few);
    forbid core dumps (freed memory can hold raw updates). Returns the soft limit now."""
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _where(url: str) -> str:
    """The host of the Bot API address (never the token)."""
    return urlsplit(url).hostname or "?"


@contextlib.asynccontextmanager
async def _started(parts: Parts, key_secret: bytes) -> AsyncIterator[AnyApplication]:
    """The application, initialised (Redis and the Bot API answered) and started; stopped and
    shut down on the way out, and the store closed."""
    settings = parts.settings
    try:
        if not await parts.store.ping():
            msg = "Redis at DECREEBOT_REDIS_URL does not answer"
            raise StartupError(msg)
        application = build_application(parts)
        try:
            await application.initialize()
        except InvalidToken:
            msg = "the Bot API refused DECREEBOT_TOKEN"
            raise StartupError(msg) from None
        except TelegramError as exc:
            where = _where(settings.api_base_url)
            msg = f"the Bot API at {where} cannot be reached ({type(exc).__name__})"
            raise StartupError(msg) from None
        try:
            await prepare(application, parts, key_secret=key_secret)
            _extras(application, parts)
            async with _metrics_served(parts):
                await application.start()
                yield application
        finally:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
    finally:
        await parts.store.close()
        if parts.counting is not None:
            await parts.counting.close()


def _extras(application: AnyApplication, parts: Parts) -> None:
    """Inline answers, and the metrics' view of updates and errors when they are on."""
    inline.install(application, parts.renderer, lambda: parts.identity.username)
    if parts.metrics is not None:
        parts.metrics.install(application)


@contextlib.asynccontextmanager
async def _metrics_served(parts: Parts) -> AsyncIterator[None]:
    """`/metrics` on DECREEBOT_METRICS_LISTEN while the bot runs (nothing when unset)."""
    address = parts.settings.metrics_address()
    if parts.metrics is None or address is None:
        yield
        return
    url = parts.settings.redis_url
    parts.metrics.measure_conversations(
        conversations_kept(parts.store, url.get_secret_value() if url else None)
    )
    try:
        stop = parts.metrics.serve(*address)
    except OSError as exc:
        msg = f"cannot listen on DECREEBOT_METRICS_LISTEN ({exc.strerror})"
        raise StartupError(msg) from None
    logger.info("metrics listening")
    try:
        yield
    finally:
        await asyncio.to_thread(stop)


async def serve_polling(parts: Parts, *, key_secret: bytes, stop: asyncio.Event) -> None:
    """Poll the Bot API for updates until `stop` is set."""
    async with _started(parts, key_secret) as application:
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=0)
        logger.info("polling")
        await stop.wait()


async def serve_webhook(parts: Parts, *, key_secret: bytes, stop: asyncio.Event) -> None:
    """Serve the webhook (and /healthz) until `stop` is set; registers the webhook first."""
    settings = parts.settings
    if not settings.webhook_url or settings.webhook_secret is None:
        msg = "webhook mode needs DECREEBOT_WEBHOOK_URL and DECREEBOT_WEBHOOK_SECRET"
        raise StartupError(msg)
    secret = settings.webhook_secret.get_secret_value()
    host, port = settings.listen_address()
    files = raise_file_limit()
    connections = max(64, min(MAX_CONNECTIONS, files - RESERVED_FILES))
    async with _started(parts, key_secret) as application:
        server = WebhookServer(
            application,
            secret=secret,
            path=settings.webhook_path(),
            health=parts.store.ping,
            max_connections=connections,
            early_answers=settings.webhook_early_answers,
        )
        try:
            server.listen(host, port)
        except OSError as exc:
            msg = f"cannot listen on DECREEBOT_LISTEN ({exc.strerror})"
            raise StartupError(msg) from None
        try:
            try:
                await application.bot.set_webhook(
                    settings.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
                )
            except TelegramError as exc:
                msg = f"the Bot API refused the webhook ({type(exc).__name__})"
                raise StartupError(msg) from None
            logger.info("webhook listening (at most %d connections)", connections)
            await stop.wait()
        finally:
            await server.stop()
