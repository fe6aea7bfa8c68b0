"""Running the bot: long polling, or a webhook server; both stop cleanly on an event."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from bot.adapters.telegram import inline
from bot.adapters.telegram.app import ALLOWED_UPDATES, build_application, prepare
from bot.adapters.telegram.webhook import AnyApplication, WebhookServer
from bot.compose import Parts
from bot.metrics import conversations_kept

__all__ = ["serve_polling", "serve_webhook"]

logger = logging.getLogger(__name__)


async def serve_polling(parts: Parts, *, key_secret: bytes, stop: asyncio.Event) -> None:
    """Poll the Bot API for updates until `stop` is set."""
    application = build_application(parts)
    async with application, _metrics_served(parts):
        await prepare(application, parts, key_secret=key_secret)
        await _extras(application, parts)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=0)
        logger.info("polling")
        await stop.wait()
        await application.updater.stop()
        await application.stop()
    await _close(parts)


async def serve_webhook(parts: Parts, *, key_secret: bytes, stop: asyncio.Event) -> None:
    """Serve the webhook (and /healthz) until `stop` is set; registers the webhook first."""
    settings = parts.settings
    if not settings.webhook_url or settings.webhook_secret is None:
        msg = "webhook mode needs DECREEBOT_WEBHOOK_URL and DECREEBOT_WEBHOOK_SECRET"
        raise SystemExit(msg)
    secret = settings.webhook_secret.get_secret_value()
    application = build_application(parts)
    host, port = settings.listen_address()
    path = "/" + settings.webhook_url.split("://", 1)[-1].partition("/")[2]
    async with application, _metrics_served(parts):
        await prepare(application, parts, key_secret=key_secret)
        await _extras(application, parts)
        await application.start()
        server = WebhookServer(application, secret=secret, path=path, health=parts.store.ping)
        server.listen(host, port)
        await application.bot.set_webhook(
            settings.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
        )
        logger.info("webhook listening")
        await stop.wait()
        await server.stop()
        await application.stop()
    await _close(parts)


async def _extras(application: AnyApplication, parts: Parts) -> None:
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
    parts.metrics.measure_conversations(conversations_kept(parts.store, parts.settings.redis_url))
    stop = parts.metrics.serve(*address)
    logger.info("metrics listening")
    try:
        yield
    finally:
        await asyncio.to_thread(stop)


async def _close(parts: Parts) -> None:
    await parts.store.close()
    if parts.counts is not None:
        await parts.counts.close()
