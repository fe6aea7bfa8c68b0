"""The webhook server: Telegram POSTs updates here; `/healthz` tells if the bot can work.
Its endpoints are in `endpoints.py`, its connection cap and refusal counts in `connections.py`.

Every POST must carry the secret Telegram was given (`X-Telegram-Bot-Api-Secret-Token`). It is
checked as soon as the headers are in, before any byte of the body is read: without it, or
with a wrong one, the answer is 403 and the connection is closed, so a stranger's body never
takes memory. Slow clients are cut off (`HEADER_TIMEOUT`, `BODY_TIMEOUT`), open connections are
capped, and refusals are counted and logged at most once a minute per reason, never one line
or traceback per connection.

An update is processed before the answer is sent, so if this process dies midway Telegram
delivers the update again (to this or another process) and no update is lost; duplicates are
dropped by `update_id` in the store. Updates go through PTB's update processor, so PTB's limit
of updates handled at once holds here too. Several processes can serve one Redis.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable

from tornado.web import Application as WebApplication
from tornado.web import RequestHandler

from bot.adapters.telegram.connections import LimitedServer, Tally
from bot.adapters.telegram.endpoints import AnyApplication, HealthEndpoint, InFlight, UpdateEndpoint

__all__ = [
    "BODY_TIMEOUT",
    "DRAIN_TIMEOUT",
    "HEADER_TIMEOUT",
    "HEALTH_PATH",
    "MAX_BODY",
    "MAX_CONNECTIONS",
    "WebhookServer",
]

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
#: Telegram updates are small; anything bigger is not one.
MAX_BODY = 256 * 1024
#: Seconds a client has to send a request's headers; also how long an idle kept-alive
#: connection stays open (tornado uses one timer for both).
HEADER_TIMEOUT = 5.0
#: Seconds a client has to send a body, once the secret was accepted.
BODY_TIMEOUT = 5.0
#: Open connections at most (lowered to fit the file limit); more are closed at once.
MAX_CONNECTIONS = 4096
#: Seconds `stop` waits for updates in flight before it closes their connections.
DRAIN_TIMEOUT = 10.0
_MAX_HEADERS = 16 * 1024


_REASONS = {403: "refused: wrong or missing secret", 404: "refused: unknown path",
            405: "refused: method not allowed"}  # fmt: skip


class WebhookServer:
    """Serves the webhook path and `/healthz` for one PTB application."""

    def __init__(
        self,
        application: AnyApplication,
        *,
        secret: str,
        path: str,
        health: Callable[[], Awaitable[bool]],
        max_connections: int = MAX_CONNECTIONS,
        early_answers: bool = False,
    ) -> None:
        if not secret:
            msg = "a webhook needs DECREEBOT_WEBHOOK_SECRET"
            raise ValueError(msg)
        self.tally = Tally()
        self._in_flight = InFlight()
        handler_args = {
            "ptb": application, "secret": secret, "tally": self.tally,
            "in_flight": self._in_flight, "early": early_answers,
        }  # fmt: skip
        app = WebApplication(
            [
                (re.escape(path), UpdateEndpoint, handler_args),  # the path as written, no pattern
                (re.escape(HEALTH_PATH), HealthEndpoint, {"check": health}),
            ],
            log_function=self._log_request,
        )
        self._server = LimitedServer(
            app,
            max_body_size=MAX_BODY,
            max_header_size=_MAX_HEADERS,
            idle_connection_timeout=HEADER_TIMEOUT,
            body_timeout=BODY_TIMEOUT,
        )
        self._server.limit(max_connections, self.tally)

    def _log_request(self, handler: RequestHandler) -> None:
        status = handler.get_status()
        self._server.served(handler.request)
        if status >= 400:
            self.tally.note(_REASONS.get(status, f"answered {status}"))
        elif logger.isEnabledFor(logging.DEBUG):
            elapsed = 1000 * handler.request.request_time()
            logger.debug("webhook: %d in %.1f ms", status, elapsed)

    def listen(self, host: str, port: int) -> None:
        """Start accepting connections."""
        self._server.listen(port, address=host)

    async def stop(self, timeout: float = DRAIN_TIMEOUT) -> None:  # noqa: ASYNC109 - a deadline
        """Stop accepting, let the updates in flight finish (up to `timeout`), then close."""
        self._server.stop()
        started = time.monotonic()
        try:
            await asyncio.wait_for(self._in_flight.idle.wait(), timeout)
        except TimeoutError:
            logger.warning("webhook: %d updates still in flight at stop", self._in_flight.count)
        logger.debug("webhook: drained in %.2f s", time.monotonic() - started)
        await self._server.close_all_connections()
