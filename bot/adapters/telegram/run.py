"""Running the bot: long polling, or a webhook server; both stop cleanly on an event."""

from __future__ import annotations

import asyncio
import logging

from bot.adapters.telegram.app import ALLOWED_UPDATES, build_application, prepare
from bot.adapters.telegram.webhook import WebhookServer
from bot.compose import Parts

__all__ = ["serve_polling", "serve_webhook"]

logger = logging.getLogger(__name__)


async def serve_polling(parts: Parts, *, key_secret: bytes, stop: asyncio.Event) -> None:
    """Poll the Bot API for updates until `stop` is set."""
    application = build_application(parts)
    async with application:
        await prepare(application, parts, key_secret=key_secret)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=0)
        logger.info("polling")
        await stop.wait()
        await application.updater.stop()
        await application.stop()
    await parts.store.close()


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
    async with application:
        await prepare(application, parts, key_secret=key_secret)
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
    await parts.store.close()
