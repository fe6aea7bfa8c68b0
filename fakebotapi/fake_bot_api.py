"""A fake Telegram Bot API server for end-to-end tests, soak tests and benchmarks.

The real python-telegram-bot application talks to it over HTTP on 127.0.0.1, so requests,
serialisation, error mapping and both update transports (getUpdates long polling and webhook
POSTs) are exercised for real:

    async with FakeBotApi(token=TOKEN, bot_username="decree_test_bot") as api:
        app = (ApplicationBuilder().token(TOKEN).base_url(api.bot_base_url)
               .base_file_url(api.bot_base_file_url).build())
        user = api.user(user_id=42, language_code="tg")
        await user.send_command("/start")
        reply = await user.wait_reply()

PTB builds request URLs as `f"{base_url}{token}/{method}"` and sends form-encoded (or
multipart) bodies whose non-string values are JSON-encoded; both are decoded here, as are
JSON bodies. The server runs in the caller's event loop (tornado on asyncio) and never
binds or contacts anything but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import tornado.httpserver
import tornado.netutil

from fakebotapi._http import LOOPBACK, Signal, free_port, make_app, wait_any
from fakebotapi._limits import FloodLedger, FloodReport, FloodWaitError, Limits, flood_report
from fakebotapi._methods import BotApiMethods, as_chat_id
from fakebotapi._model import (
    JSON,
    ApiError,
    Call,
    RateReport,
    WebhookDelivery,
    count_rate_violations,
)
from fakebotapi._updates import CONFIGURED_SECRET, SecretDefault, UpdateQueue, WebhookConfig
from fakebotapi._user import FakeUser

T = TypeVar("T")
__all__ = ["CONFIGURED_SECRET", "FakeBotApi", "FakeUser", "WebhookConfig", "free_port"]


@dataclass(slots=True)
class _Fault:
    method: str
    status: int
    retry_after: int | None
    times: int
    chat_id: int | str | None
    description: str | None

    def error(self) -> ApiError:
        if self.status == 429:
            return FloodWaitError(self.retry_after or 1, self.chat_id, self.description)
        defaults = {500: "Internal Server Error", 502: "Bad Gateway", 403: "Forbidden"}
        return ApiError(self.status, self.description or defaults.get(self.status, "Error"))


class FakeBotApi(BotApiMethods):
    """The fake server. Use `async with FakeBotApi(...) as api:` or `start()`/`stop()`."""

    def __init__(
        self,
        token: str = "123456:TEST-token",  # noqa: S107 - a fake token for a fake server
        bot_username: str = "decree_test_bot",
        *,
        bot_name: str = "Decree Test Bot",
        webhook_retries: int = 3,
        webhook_retry_delay: float = 0.05,
        settle: float = 0.05,
        limits: Limits | None = None,
    ) -> None:
        super().__init__(token, bot_username, bot_name)
        self.settle = settle
        #: Flood limits (off unless `limits` says otherwise) and the waits announced so far.
        self.flood = FloodLedger(limits)
        self.calls: list[Call] = []
        self.users: dict[int, FakeUser] = {}
        self.latency: dict[str, float] = {}
        self._faults: list[_Fault] = []
        self._next_callback_id = 4_000_000_000_001
        self._changed = Signal()
        self.updates = UpdateQueue(
            self._changed, retries=webhook_retries, retry_delay=webhook_retry_delay
        )
        self._port: int | None = None
        self._server: tornado.httpserver.HTTPServer | None = None
        self._handlers: dict[str, Callable[[JSON], Any]] = {
            **self._chat_methods,
            "getMe": lambda _: {
                **self.bot_user,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": True,
            },
            "setWebhook": self.updates.set_webhook,
            "deleteWebhook": self.updates.delete_webhook,
            "getWebhookInfo": self.updates.webhook_info,
            "close": lambda _: True,
            "logOut": lambda _: True,
        }
        self._canonical = {name.lower(): name for name in [*self._handlers, "getUpdates"]}

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeBotApi:
        if self._server is not None:
            return self
        sockets = tornado.netutil.bind_sockets(0, address=LOOPBACK, family=socket.AF_INET)
        self._port = int(sockets[0].getsockname()[1])
        self._server = tornado.httpserver.HTTPServer(make_app(self))
        self._server.add_sockets(sockets)
        self.updates.start()
        return self

    async def stop(self) -> None:
        if self._server is None:
            return
        await self.updates.stop()  # wakes open long polls, which answer []
        self._server.stop()
        await self._server.close_all_connections()
        self._server = None

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`; PTB wants `base_url(f"{api.base_url}/bot")`."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def bot_base_url(self) -> str:
        return f"{self.base_url}/bot"

    @property
    def bot_base_file_url(self) -> str:
        return f"{self.base_url}/file/bot"

    # -- simulated people --------------------------------------------------------------------

    def user(
        self,
        user_id: int = 1001,
        *,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
    ) -> FakeUser:
        """The user with this id (created on first use); their private chat id is user_id."""
        if user_id not in self.users:
            self.users[user_id] = FakeUser(
                self,
                user_id,
                first_name=first_name,
                last_name=last_name,
                username=username,
                language_code=language_code,
            )
        return self.users[user_id]

    # -- recorded calls, faults, accounting ----------------------------------------------------

    @property
    def supported_methods(self) -> list[str]:
        """Bot API methods the fake implements; any other answers 404 (PTB: InvalidToken)."""
        return sorted(self._canonical.values())

    def reset_calls(self) -> None:
        """Forget recorded calls (long soaks); users' wait_reply marks restart with them.
        Announced flood waits and the limits' windows start afresh too."""
        self.calls.clear()
        self.flood.reset()
        for user in self.users.values():
            user.forget_marks()

    def calls_for(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.chat_id == chat_id)
        ]

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        chat_id: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` ("*" = any) with an error."""
        self._faults.append(_Fault(method, status, retry_after, times, chat_id, description))

    def clear_faults(self) -> None:
        self._faults.clear()

    def block_user(self, chat_id: int) -> None:
        """Calls aimed at this chat now answer 403 "Forbidden: bot was blocked by the user"."""
        self.blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    def set_latency(self, seconds: float, *methods: str) -> None:
        """Delay answers to `methods` (all but getUpdates when none given)."""
        for method in methods or ("*",):
            self.latency[method] = seconds

    def rate_violations(self, **limits: int) -> RateReport:
        """Flood-limit accounting over `calls`; see `count_rate_violations` for the rules."""
        return count_rate_violations(self.calls, **limits)

    def set_limits(self, limits: Limits) -> None:
        """Enforce these flood limits from now on (see `Limits`; windows start empty)."""
        self.flood.set_limits(limits)

    def flood_report(self) -> FloodReport:
        """Attempts, 429s and violations of the limited methods, over `calls`."""
        return flood_report(self.calls, self.flood.limits.methods)

    def limited_calls(self) -> list[Call]:
        """Every request of a limited method ("a send"): its time (`t_monotonic`), chat,
        status, and whether it came during a flood wait the bot had been told of
        (`in_flood`)."""
        return [c for c in self.calls if self.flood.limited(c.method)]

    async def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper's deadline, like asyncio.wait_for
    ) -> T:
        """Wait until `predicate()` is truthy and return its value; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            changed = self._changed.current()
            if value := predicate():
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = [f"{c.method}->{c.status}" for c in self.calls[-10:]]
                raise TimeoutError(f"condition not met within {timeout}s; last calls: {recent}")
            # Also re-check periodically: the predicate may read state we don't signal.
            await wait_any(min(remaining, 0.02), changed)

    # -- HTTP dispatch -----------------------------------------------------------------------

    def _call_chat(self, method: str, params: JSON) -> int | str | None:
        if method == "answerCallbackQuery":
            record = self.callbacks.get(str(params.get("callback_query_id")))
            return record.chat_id if record else None
        return as_chat_id(params.get("chat_id"))

    def _injected_fault(self, method: str, call: Call) -> None:
        """Raise the error `fail_next` asked for, if one applies to this call."""
        for fault in self._faults:
            if fault.method in (method, "*") and fault.chat_id in (None, call.chat_id):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                raise fault.error()

    async def dispatch(
        self, token: str, name: str, params: JSON, closed: asyncio.Event
    ) -> tuple[int, JSON]:
        if token != self.token:
            return 401, ApiError(401, "Unauthorized").payload()
        method = self._canonical.get(name.lower(), name)
        call = Call(method, params, self._call_chat(method, params), time.monotonic())
        self.calls.append(call)
        self._changed.fire()
        try:
            if method != "getUpdates" and method not in self._handlers:
                raise ApiError(404, "Not Found: method not found")
            delay = self.latency.get(method, self.latency.get("*", 0.0))
            if delay and method != "getUpdates":
                await asyncio.sleep(delay)
            limited = self.flood.limited(method)
            if limited:
                self.flood.admit(call)
            self._injected_fault(method, call)
            if method == "getUpdates":
                result = await self.updates.get_updates(params, closed)
            else:
                result = self._handlers[method](params)
                if limited:
                    self.flood.sent(call)
        except ApiError as exc:
            call.status, call.error = exc.status, exc.description
            call.retry_after = (exc.parameters or {}).get("retry_after")
            if isinstance(exc, FloodWaitError):
                self.flood.told(call, exc)
            payload = exc.payload()
        else:
            call.status, call.result = 200, result
            payload = {"ok": True, "result": result}
        call.t_done = time.monotonic()
        self._changed.fire()
        return call.status, payload

    # -- updates and webhook -----------------------------------------------------------------

    @property
    def webhook(self) -> WebhookConfig | None:
        """What the bot passed to setWebhook (None in polling mode)."""
        return self.updates.webhook

    @property
    def webhook_responses(self) -> list[WebhookDelivery]:
        """Every webhook POST attempt with the bot's HTTP status."""
        return self.updates.webhook_responses

    @property
    def undelivered_updates(self) -> list[JSON]:
        """Updates the webhook refused (4xx) or never took (5xx/no answer after retries)."""
        return self.updates.undelivered

    @property
    def filtered_updates(self) -> list[JSON]:
        """Updates dropped because the bot's allowed_updates excluded their kind."""
        return self.updates.filtered

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued for getUpdates and not yet confirmed by an offset."""
        return self.updates.pending

    def new_update_id(self) -> int:
        return self.updates.new_update_id()

    def new_callback_id(self) -> str:
        self._next_callback_id += 1
        return str(self._next_callback_id)

    async def wait_inline_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper's deadline, as wait_for
    ) -> JSON:
        """The bot's answer to an inline query (`FakeUser.inline_query`), once it came."""
        record = self.inline_queries[query_id]
        await self.wait_for(lambda: record.answer is not None, timeout)
        assert record.answer is not None
        return record.answer

    async def deliver(self, update: JSON) -> int | None:
        """Hand an update to the bot: queue it for getUpdates, or POST it to the webhook."""
        return await self.updates.deliver(update, CONFIGURED_SECRET)

    async def deliver_raw(
        self, update: JSON, *, secret: str | SecretDefault | None = CONFIGURED_SECRET
    ) -> int | None:
        """Deliver an arbitrary (even malformed) update as-is.

        Webhook mode: POSTs it (secret=None drops the header, a string replaces it) and
        returns the bot's final HTTP status (None: no HTTP answer). Polling mode: queues it
        for getUpdates and returns None; without an integer update_id it is handed out once.
        """
        return await self.updates.deliver(update, secret)
