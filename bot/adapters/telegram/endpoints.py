"""The webhook's two endpoints: the update path (Telegram's POSTs) and `/healthz`.

Every POST must carry the secret Telegram was given (`X-Telegram-Bot-Api-Secret-Token`). It is
checked as soon as the headers are in, before any byte of the body is read: without it, or
with a wrong one, the answer is 403 and the connection is closed, so a stranger's body never
takes memory.

An update is processed before the answer is sent, so if this process dies midway Telegram
delivers the update again (to this or another process) and no update is lost; duplicates are
dropped by `update_id` in the store. The exception, when the operator allows it, is a reply
that must wait long (`early`). Updates go through PTB's update processor, so PTB's limit of
updates handled at once holds here too.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from telegram import Bot, Update
from telegram.ext import Application
from tornado.web import RequestHandler, stream_request_body

from bot.adapters.telegram.connections import Tally
from bot.adapters.telegram.early import TAKEN

__all__ = ["AnyApplication", "HealthEndpoint", "InFlight", "UpdateEndpoint", "parse_update"]

_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
#: Telegram ids fit in a signed 64-bit integer; a number literal longer than this is no id.
_MAX_INT_DIGITS = 20
_INT64 = range(-(2**63), 2**63)
#: Our PTB application; its six type parameters are the defaults.
AnyApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


class InFlight:
    """Updates being processed, so that `stop` can wait for them."""

    def __init__(self) -> None:
        self.count = 0
        self.idle = asyncio.Event()
        self.idle.set()
        #: Their tasks, kept here: one whose webhook was answered early has no other owner.
        self.tasks: set[asyncio.Task[Exception | None]] = set()

    def enter(self) -> None:
        self.count += 1
        self.idle.clear()

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0:
            self.idle.set()


@stream_request_body
class UpdateEndpoint(RequestHandler):
    """POST: one update, with the secret header."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(
        self, ptb: AnyApplication, secret: str, tally: Tally, in_flight: InFlight, *, early: bool
    ) -> None:
        self._application = ptb
        self._early = early
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
        failed = await (self._early_or_handled(update) if self._early else self._process(update))
        self.set_status(500 if failed else 200)  # 500: Telegram delivers it again

    async def _early_or_handled(self, update: Update) -> Exception | None:
        """Handle the update, returning as soon as it is handled or `early.taken()` says its
        conversation is written while its reply waits; the handling goes on without us."""
        answered = asyncio.Event()
        token = TAKEN.set(answered.set)
        try:
            handling = asyncio.ensure_future(self._process(update))  # TAKEN is in its context
        finally:
            TAKEN.reset(token)
        self._in_flight.tasks.add(handling)  # a task the loop alone would hold could vanish
        handling.add_done_callback(self._in_flight.tasks.discard)
        written = asyncio.ensure_future(answered.wait())
        await asyncio.wait((handling, written), return_when=asyncio.FIRST_COMPLETED)
        written.cancel()
        return handling.result() if handling.done() else None

    async def _process(self, update: Update) -> Exception | None:
        """Handle the update; the error, if any (counted), in place of raising it."""
        try:
            application = self._application
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        except Exception as exc:  # PTB hands handler errors to the error handler; this is PTB's
            self._tally.note(f"update failed: {type(exc).__name__}")
            return exc
        finally:
            self._in_flight.leave()
        return None

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


class HealthEndpoint(RequestHandler):
    """GET or HEAD: 200 when the store answers, else 503."""

    SUPPORTED_METHODS = ("GET", "HEAD")

    def initialize(self, check: Callable[[], Awaitable[bool]]) -> None:
        self._check = check

    async def get(self) -> None:
        healthy = await self._check()
        self.set_status(200 if healthy else 503)
        self.finish("ok" if healthy else "store unavailable")

    async def head(self) -> None:
        self.set_status(200 if await self._check() else 503)
