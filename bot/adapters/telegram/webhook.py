"""The webhook server: Telegram POSTs updates here; `/healthz` tells if the bot can work.

Every POST must carry the secret Telegram was given (`X-Telegram-Bot-Api-Secret-Token`);
without it, or with a wrong one, the answer is 403 and nothing is read. An update is
processed before the answer is sent, so if this process dies midway Telegram delivers the
update again (to this or another process) and no update is lost; duplicates are dropped by
`update_id` in the store. Several processes can serve one Redis.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from telegram import Bot, Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler

__all__ = ["HEALTH_PATH", "MAX_BODY", "AnyApplication", "WebhookServer", "parse_update"]

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
#: Telegram updates are small; anything bigger is not one.
MAX_BODY = 256 * 1024
_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
#: Our PTB application; its six type parameters are the defaults.
AnyApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


class _UpdateHandler(RequestHandler):
    def initialize(self, ptb: AnyApplication, secret: str) -> None:
        self._application = ptb
        self._secret = secret.encode()

    async def post(self) -> None:
        given = self.request.headers.get(_SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self.set_status(403)
            return
        update = parse_update(self.request.body, self._application.bot)
        if update is None:
            logger.info("webhook: malformed update dropped")
            self.set_status(200)  # a 4xx/5xx would only make Telegram send it again
            return
        await self._application.process_update(update)
        self.set_status(200)


def parse_update(body: bytes | str, bot: Bot) -> Update | None:
    """The update in a webhook body, or None for anything Telegram would not send: not JSON,
    not an object, an update, chat, user or message id that is not an integer, or fields of
    the wrong kind (whatever the parser trips on)."""
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            return None
        update = Update.de_json(data, bot)
    except Exception:  # any failure to parse means "not an update"
        return None
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    ids = [
        chat.id if chat is not None else 0,
        user.id if user is not None else 0,
        message.message_id if message is not None else 0,
    ]
    return update if all(type(i) is int for i in ids) else None


class _HealthHandler(RequestHandler):
    def initialize(self, check: Callable[[], Awaitable[bool]]) -> None:
        self._check = check

    async def get(self) -> None:
        healthy = await self._check()
        self.set_status(200 if healthy else 503)
        self.finish("ok" if healthy else "store unavailable")


class WebhookServer:
    """Serves the webhook path and `/healthz` for one PTB application."""

    def __init__(
        self,
        application: AnyApplication,
        *,
        secret: str,
        path: str,
        health: Callable[[], Awaitable[bool]],
    ) -> None:
        if not secret:
            msg = "a webhook needs DECREEBOT_WEBHOOK_SECRET"
            raise ValueError(msg)
        app = WebApplication(
            [
                (path, _UpdateHandler, {"ptb": application, "secret": secret}),
                (HEALTH_PATH, _HealthHandler, {"check": health}),
            ],
        )
        self._server = HTTPServer(app, max_body_size=MAX_BODY, xheaders=True)

    def listen(self, host: str, port: int) -> None:
        """Start accepting connections."""
        self._server.listen(port, address=host)

    async def stop(self) -> None:
        """Stop accepting and finish open requests."""
        self._server.stop()
        await self._server.close_all_connections()
