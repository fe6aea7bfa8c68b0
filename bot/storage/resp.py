"""`RespClient`: one pipelined connection to Redis, for the few commands the store sends.

Every command is written at once to one connection and its reply matched in order (Redis
answers in order), so concurrent callers share one socket with no pool and no lock; hiredis
parses the replies. It does what `RedisStore` needs and no more: RESP2, `redis://`,
`rediss://` and `unix://` URLs with a password and a database number, scripts by SHA with
a reload on NOSCRIPT, a connect timeout, and a command timeout after which the connection
is dropped (a reply that late could belong to no one).

A lost connection fails the commands in flight with `ConnectionError`; the next command
opens a new one. Error replies from the server are raised as `ReplyError`.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import ssl
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import hiredis

__all__ = ["Endpoint", "ReplyError", "RespClient", "Script", "pack"]

Arg = bytes | str | int


class ReplyError(Exception):
    """An error reply from the server ("NOSCRIPT ...", "LOADING ...", a script's error)."""


def pack(args: tuple[Arg, ...]) -> bytes:
    """One command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, bytes):
            raw = arg
        elif isinstance(arg, str):
            raw = arg.encode()
        else:
            raw = b"%d" % arg
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(out)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where Redis is and how to log in, from a URL."""

    host: str = "127.0.0.1"
    port: int = 6379
    path: str | None = None  # a unix socket
    tls: bool = False
    username: str | None = None
    password: str | None = None
    db: int = 0

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        """redis://[[user]:password@]host[:port][/db], rediss://… (TLS), unix:///path[?db=N]."""
        parts = urlsplit(url)
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        if parts.scheme == "unix":
            query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
            return cls(
                path=parts.path, username=username, password=password, db=int(query.get("db", 0))
            )
        if parts.scheme not in {"redis", "rediss"}:
            msg = "the Redis URL must start with redis://, rediss:// or unix://"
            raise ValueError(msg)
        db = parts.path.strip("/")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 6379,
            tls=parts.scheme == "rediss",
            username=username,
            password=password,
            db=int(db) if db else 0,
        )

    def login(self) -> list[tuple[Arg, ...]]:
        """The commands that start a session: AUTH and SELECT, when needed."""
        commands: list[tuple[Arg, ...]] = []
        if self.password is not None:
            commands.append(
                ("AUTH", self.username, self.password) if self.username else ("AUTH", self.password)
            )
        if self.db:
            commands.append(("SELECT", self.db))
        return commands


class _Connection(asyncio.Protocol):
    """One socket: replies are matched to the commands in flight, first in, first out."""

    def __init__(self, timeout: float) -> None:
        self._reader = hiredis.Reader(replyError=ReplyError)
        self._timeout = timeout
        #: (future, time written) per command in flight, oldest first
        self._waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self._transport: asyncio.Transport | None = None
        self._watch: asyncio.TimerHandle | None = None
        self.closed = False

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport (uvloop's is not a subclass of asyncio.Transport)
        self._transport = cast("asyncio.Transport", transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in {socket.AF_INET, socket.AF_INET6}:
            # An idle connection to a host that went away is noticed by the kernel too.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        waiting = self._waiting
        while True:
            try:
                reply = reader.gets()
            except hiredis.ProtocolError:
                self._drop(ConnectionError("malformed reply from Redis"))
                return
            if reply is False:
                return
            if not waiting:  # a reply nobody asked for: the stream is out of step
                self._drop(ConnectionError("unexpected reply from Redis"))
                return
            future = waiting.popleft()[0]
            if future.done():  # a caller that gave up
                continue
            if isinstance(reply, ReplyError):  # hiredis returns error replies, not raises
                future.set_exception(reply)
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionError("connection to Redis lost"))

    # --- commands -----------------------------------------------------------------------

    def send(self, data: bytes, count: int = 1) -> list[asyncio.Future[Any]]:
        """Write commands already packed (`count` of them); one future per reply."""
        if self.closed or self._transport is None:
            raise ConnectionError("connection to Redis closed")
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        futures = [loop.create_future() for _ in range(count)]
        self._waiting.extend((f, now) for f in futures)
        self._transport.write(data)
        if self._watch is None:
            self._watch = loop.call_at(loop.time() + self._timeout, self._check_timeout)
        return futures

    def _check_timeout(self) -> None:
        """The oldest command has waited too long: Redis is stuck or gone; drop the socket."""
        self._watch = None
        if not self._waiting or self.closed:
            return
        waited = time.monotonic() - self._waiting[0][1]
        if waited >= self._timeout:
            self._drop(TimeoutError("Redis did not answer in time"))
            return
        loop = asyncio.get_running_loop()
        self._watch = loop.call_at(loop.time() + self._timeout - waited, self._check_timeout)

    def _drop(self, exc: Exception) -> None:
        self.closed = True
        self._fail(exc)
        if self._transport is not None:
            self._transport.abort()

    def _fail(self, exc: Exception) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        while self._waiting:
            future = self._waiting.popleft()[0]
            if not future.done():
                future.set_exception(exc)

    def close(self) -> None:
        self.closed = True
        self._fail(ConnectionError("connection to Redis closed"))
        if self._transport is not None:
            self._transport.close()


class RespClient:
    """Commands to one Redis over one pipelined connection, reopened when lost."""

    def __init__(self, endpoint: Endpoint, *, connect_timeout: float, timeout: float) -> None:
        self._endpoint = endpoint
        self._connect_timeout = connect_timeout
        self._timeout = timeout
        self._conn: _Connection | None = None
        self._opening: asyncio.Future[_Connection] | None = None
        self._ssl = ssl.create_default_context() if endpoint.tls else None

    async def call(self, *args: Arg) -> Any:
        """Send one command; its reply (bytes, int, list, None). Raises `ReplyError` for an
        error reply, `ConnectionError` or `TimeoutError` when Redis cannot be reached."""
        conn = self._conn
        if conn is None or conn.closed:
            conn = await self._connection()
        return await conn.send(pack(args))[0]

    async def _connection(self) -> _Connection:
        """The open connection, or a new one; callers arriving meanwhile share its opening."""
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open())
        opening = self._opening
        try:
            return await asyncio.shield(opening)
        finally:
            if self._opening is opening and opening.done():
                self._opening = None

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        endpoint = self._endpoint
        protocol = _Connection(self._timeout)
        if endpoint.path is not None:
            opening = loop.create_unix_connection(lambda: protocol, endpoint.path)
        else:
            opening = loop.create_connection(
                lambda: protocol,
                endpoint.host,
                endpoint.port,
                ssl=self._ssl,
                server_hostname=endpoint.host if self._ssl else None,
            )
        try:
            async with asyncio.timeout(self._connect_timeout):
                await opening
                login = endpoint.login()
                if login:
                    data = b"".join(pack(c) for c in login)
                    for future in protocol.send(data, len(login)):
                        await future  # raises ReplyError on a wrong password or database
        except BaseException:
            protocol.close()  # a socket that connected but could not log in
            raise
        self._conn = protocol
        return protocol

    async def close(self) -> None:
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class Script:
    """A Lua script run by SHA (EVALSHA), loaded again when the server forgot it."""

    def __init__(self, client: RespClient, source: str) -> None:
        self._client = client
        self._source = source.encode()
        self._sha = hashlib.sha1(self._source).hexdigest().encode()  # noqa: S324 - Redis's id

    async def __call__(self, keys: list[Arg], args: list[Arg]) -> Any:
        try:
            return await self._client.call(b"EVALSHA", self._sha, len(keys), *keys, *args)
        except ReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await self._client.call(b"EVAL", self._source, len(keys), *keys, *args)
