"""One webhook URL in front of several bot processes, as a load balancer would be.

Telegram delivers to one URL. The forwarder takes each POST, passes it with its headers to the
next worker in turn, and answers with that worker's status. When a worker cannot be reached,
or its connection breaks before it answers (it was killed), the same request goes to the
next one: to Telegram that is just a slow delivery. Loopback only.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field

import httpx
import tornado.httpserver
import tornado.netutil
import tornado.web

__all__ = ["Forwarder"]

_LOOPBACK = "127.0.0.1"
_PASSED_HEADERS = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")
#: A worker that failed is skipped for this long before it is tried again.
_COOL_DOWN = 0.5
#: Longer than any update takes: the worker's answer is what counts, never our impatience.
_TIMEOUT = 120.0


@dataclass
class _Stats:
    forwarded: int = 0
    failed_over: int = 0
    refused: int = 0
    per_worker: dict[str, int] = field(default_factory=dict)


class _Handler(tornado.web.RequestHandler):
    def initialize(self, forwarder: Forwarder) -> None:
        self._forwarder = forwarder

    async def post(self) -> None:
        headers = {
            name: value
            for name in _PASSED_HEADERS
            if (value := self.request.headers.get(name)) is not None
        }
        status = await self._forwarder.forward(self.request.path, self.request.body, headers)
        self.set_status(status)
        self.finish()


class Forwarder:
    """Round robin over `targets` (base URLs such as http://127.0.0.1:8081), with failover."""

    def __init__(self, targets: list[str]) -> None:
        self.targets = targets
        self.stats = _Stats()
        #: Updates whose first worker broke the connection after taking the request (it was
        #: killed while handling it), so the next worker got them again.
        self.failed_over: set[int] = set()
        self._next = 0
        self._down_until: dict[str, float] = {}
        self._client: httpx.AsyncClient | None = None
        self._server: tornado.httpserver.HTTPServer | None = None
        self.port = 0

    async def start(self) -> None:
        """Listen on a free loopback port."""
        limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
        self._client = httpx.AsyncClient(
            trust_env=False, timeout=httpx.Timeout(_TIMEOUT), limits=limits
        )
        sockets = tornado.netutil.bind_sockets(0, address=_LOOPBACK, family=socket.AF_INET)
        self.port = int(sockets[0].getsockname()[1])
        app = tornado.web.Application(
            [(r"/.*", _Handler, {"forwarder": self})],
            log_function=lambda _handler: None,  # the table counts what matters
        )
        self._server = tornado.httpserver.HTTPServer(app, max_body_size=8 * 1024 * 1024)
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _note_failover(self, body: bytes) -> None:
        try:
            update_id = json.loads(body).get("update_id")
        except (ValueError, AttributeError):
            return
        if isinstance(update_id, int):
            self.failed_over.add(update_id)

    def url(self, path: str) -> str:
        return f"http://{_LOOPBACK}:{self.port}{path}"

    def _order(self) -> list[str]:
        start = self._next % len(self.targets)
        self._next += 1
        ordered = self.targets[start:] + self.targets[:start]
        now = time.monotonic()
        up = [t for t in ordered if self._down_until.get(t, 0.0) <= now]
        return up + [t for t in ordered if t not in up]

    async def forward(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        """POST to the workers in turn until one answers; 502 if none does."""
        assert self._client is not None
        self.stats.forwarded += 1
        for attempt, target in enumerate(self._order()):
            if attempt:
                self.stats.failed_over += 1
            try:
                response = await self._client.post(target + path, content=body, headers=headers)
            except httpx.TransportError as exc:
                self._down_until[target] = time.monotonic() + _COOL_DOWN
                if not isinstance(exc, httpx.ConnectError):
                    self._note_failover(body)
                continue
            self.stats.per_worker[target] = self.stats.per_worker.get(target, 0) + 1
            return response.status_code
        self.stats.refused += 1
        return 502
