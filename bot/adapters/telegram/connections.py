"""The webhook's connections: a cap on open ones, and refusals counted, not logged one by one.

Slow clients are cut off by tornado's timers (see `webhook.py`), open connections are capped,
and refusals are counted and logged at most once a minute per reason, never one line or
traceback per connection.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPServerRequest
from tornado.iostream import IOStream

__all__ = ["LimitedServer", "Tally"]

logger = logging.getLogger(__name__)


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


class LimitedServer(HTTPServer):
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
