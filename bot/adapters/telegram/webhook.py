"""The webhook server: Telegram POSTs updates here; `/healthz` tells if the bot can work.

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
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from telegram import Bot, Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPServerRequest
from tornado.iostream import IOStream
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler, stream_request_body

__all__ = [
    "BODY_TIMEOUT",
    "DRAIN_TIMEOUT",
    "HEADER_TIMEOUT",
    "HEALTH_PATH",
    "MAX_BODY",
    "MAX_CONNECTIONS",
    "AnyApplication",
    "Tally",
    "WebhookServer",
    "parse_update",
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
_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
#: Telegram ids fit in a signed 64-bit integer; a number literal longer than this is no id.
_MAX_INT_DIGITS = 20
_INT64 = range(-(2**63), 2**63)
#: Our PTB application; its six type parameters are the defaults.
AnyApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


class Tally:
    """Counts events by reason and logs each reason at most about once a minute.

    The first event of a reason is logged at once; later ones within the minute are counted,
    and the count is logged when the minute is over (then a new minute starts if any came).
    """

    def __init__(self, period: float = 60.0) -> None:
        self._period = period
        self._counts: dict[str, int] = {}  # reason -> events since its last line

    def note(self, reason: str) -> None:
        if reason in self._counts:
            self._counts[reason] += 1
            return
        logger.warning("webhook: %s", reason)
        self._counts[reason] = 0
        asyncio.get_running_loop().call_later(self._period, self._flush, reason)

    def _flush(self, reason: str) -> None:
        count = self._counts.pop(reason, 0)
        if count:
            logger.warning("webhook: %s: %d more in the last minute", reason, count)
            self._counts[reason] = 0
            asyncio.get_running_loop().call_later(self._period, self._flush, reason)


class _InFlight:
    """Updates being processed, so that `stop` can wait for them."""

    def __init__(self) -> None:
        self.count = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def enter(self) -> None:
        self.count += 1
        self.idle.clear()

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0:
            self.idle.set()


@stream_request_body
class _UpdateHandler(RequestHandler):
    SUPPORTED_METHODS = ("POST",)

    def initialize(
        self, ptb: AnyApplication, secret: str, tally: Tally, in_flight: _InFlight
    ) -> None:
        self._application = ptb
        self._secret = secret.encode()
        self._tally = tally
        self._in_flight = in_flight
        self._chunks: list[bytes] = []
        self._refused = False

    def prepare(self) -> None:
        # Headers only: no byte of the body has been read yet.
        given = self.request.headers.get(_SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self._refused = True
            self.set_status(403)
            self.set_header("Connection", "close")
            self.finish()  # before the body: tornado closes the connection after the answer

    def data_received(self, chunk: bytes) -> None:
        if not self._refused:  # (tornado already discards a refused request's body)
            self._chunks.append(chunk)  # at most MAX_BODY in all: the server refuses more

    async def post(self) -> None:
        update = parse_update(b"".join(self._chunks), self._application.bot)
        self._chunks = []
        if update is None:
            self._tally.note("malformed update dropped")
            self.set_status(200)  # a 4xx/5xx would only make Telegram send it again
            return
        self._in_flight.enter()
        try:
            application = self._application
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        except Exception as exc:  # PTB hands handler errors to the error handler; this is PTB's
            self._tally.note(f"update failed: {type(exc).__name__}")
            self.set_status(500)  # Telegram delivers it again
            return
        finally:
            self._in_flight.leave()
        self.set_status(200)

    def on_connection_close(self) -> None:
        self._chunks = []
        super().on_connection_close()  # ends the wait for a body that will not come


def _bounded_int(text: str) -> int:
    if len(text) > _MAX_INT_DIGITS:
        msg = "not a Telegram number"
        raise ValueError(msg)
    return int(text)


def parse_update(body: bytes | str, bot: Bot) -> Update | None:
    """The update in a webhook body, or None for anything Telegram would not send: not JSON,
    not an object, a number too long to be a Telegram id anywhere, an update, chat, user or
    message id that is not a 64-bit integer, or fields of the wrong kind (whatever the parser
    trips on)."""
    try:
        data = json.loads(body, parse_int=_bounded_int)
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            return None
        update = Update.de_json(data, bot)
    except Exception:  # any failure to parse means "not an update"
        return None
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    ids = [
        update.update_id,
        chat.id if chat is not None else 0,
        user.id if user is not None else 0,
        message.message_id if message is not None else 0,
    ]
    return update if all(type(i) is int and i in _INT64 for i in ids) else None


class _HealthHandler(RequestHandler):
    SUPPORTED_METHODS = ("GET", "HEAD")

    def initialize(self, check: Callable[[], Awaitable[bool]]) -> None:
        self._check = check

    async def get(self) -> None:
        healthy = await self._check()
        self.set_status(200 if healthy else 503)
        self.finish("ok" if healthy else "store unavailable")

    async def head(self) -> None:
        self.set_status(200 if await self._check() else 503)


class _Server(HTTPServer):
    """tornado's HTTP server with a cap on open connections, counting those that end badly."""

    def limit(self, max_connections: int, tally: Tally) -> None:
        self._max = max_connections
        self._tally = tally
        self._open = 0
        self._served: set[int] = set()  # ids of open streams that completed a request

    def handle_stream(self, stream: IOStream, address: tuple[Any, ...]) -> None:
        if self._open >= self._max:
            self._tally.note("connection refused: too many open connections")
            stream.close()
            return
        self._open += 1
        super().handle_stream(stream, address)

    def on_close(self, server_conn: object) -> None:
        self._open -= 1
        stream = getattr(server_conn, "stream", None)
        if id(stream) in self._served:
            self._served.discard(id(stream))
        else:
            self._tally.note("connection closed before a complete request (slow or malformed)")
        super().on_close(server_conn)

    def served(self, request: HTTPServerRequest) -> None:
        stream = getattr(request.connection, "stream", None)
        if stream is not None and not stream.closed():
            self._served.add(id(stream))


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
    ) -> None:
        if not secret:
            msg = "a webhook needs DECREEBOT_WEBHOOK_SECRET"
            raise ValueError(msg)
        self.tally = Tally()
        self._in_flight = _InFlight()
        handler_args = {
            "ptb": application, "secret": secret, "tally": self.tally, "in_flight": self._in_flight
        }  # fmt: skip
        app = WebApplication(
            [
                (re.escape(path), _UpdateHandler, handler_args),  # the path as written, no pattern
                (re.escape(HEALTH_PATH), _HealthHandler, {"check": health}),
            ],
            log_function=self._log_request,
        )
        self._server = _Server(
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
