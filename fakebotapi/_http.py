"""HTTP plumbing of the fake Bot API: tornado handlers, request decoding, wake-up signals."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import TYPE_CHECKING, Any, Final

import tornado.httputil
import tornado.web

from fakebotapi._model import JSON, ApiError, bad_request

if TYPE_CHECKING:
    from fakebotapi.fake_bot_api import FakeBotApi

LOOPBACK: Final = "127.0.0.1"
# Parameters whose values are plain strings; PTB JSON-encodes every non-string value, so
# anything else is JSON-decoded ("123" -> 123, '{"inline_keyboard": ...}' -> dict).
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "language_code",
        "description",
        "short_description",
        "name",
        "file_id",
        "business_connection_id",
        "message_effect_id",
        "emoji",
        "title",
        "query",
    }
)


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (for the bot's own webhook server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class Signal:
    """Wakes every waiter when state changes (one event loop, so no locks needed).

    Waiters take `current()` *before* checking their condition, so a change between the
    check and the wait still wakes them.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        return self._event

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()


async def wait_any(seconds: float, *events: asyncio.Event) -> None:
    """Return when any event is set or `seconds` pass."""
    if any(e.is_set() for e in events) or seconds <= 0:
        return
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def _maybe_json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def decode_params(request: tornado.httputil.HTTPServerRequest) -> JSON:
    """Parameters from a query string, form, multipart or JSON body."""
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("application/json") and request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            raise bad_request("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON body must be an object")
        return body
    params: JSON = {}
    for key, values in {**request.query_arguments, **request.body_arguments}.items():
        value = values[-1].decode("utf-8", "replace")
        params[key] = value if key in _STRING_PARAMS else _maybe_json(value)
    for key, files in request.files.items():
        upload = files[0]
        params[key] = {"upload": upload.filename, "size": len(upload.body)}
    return params


class ApiHandler(tornado.web.RequestHandler):
    """`/bot<token>/<method>`: decode, let the fake answer, write its JSON."""

    def initialize(self, api: FakeBotApi) -> None:
        self.api = api
        self.closed = asyncio.Event()

    def on_connection_close(self) -> None:
        # PTB cancels its long poll on shutdown; the pending getUpdates must stop waiting.
        self.closed.set()

    async def get(self, token: str, method: str) -> None:
        try:
            params = decode_params(self.request)
        except ApiError as exc:
            status, payload = exc.status, exc.payload()
        else:
            status, payload = await self.api.dispatch(token, method, params, self.closed)
        if self.closed.is_set():
            return
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload))

    async def post(self, token: str, method: str) -> None:
        await self.get(token, method)


class FileHandler(tornado.web.RequestHandler):
    """`/file/bot<token>/<file_path>`: the bytes of files users sent (see getFile)."""

    def initialize(self, api: FakeBotApi) -> None:
        self.api = api

    def get(self, token: str, path: str) -> None:
        by_path = dict(self.api.files.values())
        if token != self.api.token or path not in by_path:
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", "application/octet-stream")
        self.finish(by_path[path])


def make_app(api: FakeBotApi) -> tornado.web.Application:
    return tornado.web.Application(
        [
            (r"/bot([^/]+)/([^/]+)", ApiHandler, {"api": api}),
            (r"/file/bot([^/]+)/(.+)", FileHandler, {"api": api}),
        ],
        log_function=lambda _handler: None,  # no access log noise in test output
    )
