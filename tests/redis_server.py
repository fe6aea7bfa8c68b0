"""A private, throwaway ``redis-server`` for the tests, its pytest fixtures, and Redis
key-hygiene helpers.

The suite never touches a shared Redis: ``RedisServer`` runs its own ``redis-server``
(from PATH) on a free loopback port, without persistence, in a temporary directory.
Register this module as a pytest plugin (``pytest_plugins = ["tests.redis_server"]`` in
the root conftest) to get the ``redis_server`` (session) and ``redis_url`` (per test,
flushed) fixtures.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

import pytest
import redis

__all__ = [
    "COUNTS_PREFIX",
    "RedisServer",
    "RedisServerError",
    "all_keys_with_ttl",
    "redis_server",
    "redis_url",
]

_HOST = "127.0.0.1"
_SHARED_PORT = 6379  # the machine's own Redis: never ours to start, flush or stop
_START_ATTEMPTS = 5  # a freshly picked free port can be taken before redis binds it


class RedisServerError(RuntimeError):
    """The private redis-server could not be started."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec hook so an interrupted test run does not leave redis-server behind."""
    # PDEATHSIG fires when the spawning *thread* ends, so only use it from the main thread.
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def hook() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return hook


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection((_HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One private redis-server process on 127.0.0.1.

    ``restart()`` keeps the port, so clients built from ``url`` see a Redis that went
    away and came back empty, as after a real restart without persistence.
    """

    def __init__(self, *, port: int | None = None, binary: str | None = None) -> None:
        if port == _SHARED_PORT:
            raise ValueError("port 6379 belongs to the shared Redis; pick another")
        self._port = port
        self._binary = binary
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RedisServerError("the server has not been started")
        return self._port

    @property
    def url(self) -> str:
        return f"redis://{_HOST}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the server (a no-op if running) and wait until it answers PING."""
        if self.running:
            return
        binary = self._binary or shutil.which("redis-server")
        if binary is None:
            raise RedisServerError(
                "redis-server not found on PATH; the tests need it "
                "(Debian/Ubuntu: apt-get install redis-server)"
            )
        fixed_port = self._port is not None
        for attempt in range(_START_ATTEMPTS):
            port = self._port if fixed_port and self._port is not None else _free_port()
            try:
                self._spawn(binary, port)
                self.wait_ready()
            except RedisServerError:
                self.stop()
                if fixed_port or attempt == _START_ATTEMPTS - 1:
                    raise
            else:
                return

    def _spawn(self, binary: str, port: int) -> None:
        self._port = port
        self._tmp = tempfile.TemporaryDirectory(prefix="decree-redis-")
        options = {
            "port": str(port),
            "bind": _HOST,
            "save": "",  # no RDB snapshots
            "appendonly": "no",
            "dir": self._tmp.name,
            "daemonize": "no",
            "protected-mode": "yes",
            "logfile": "",  # stdout, which goes to redis.log below
        }
        argv = [binary, *(part for name, value in options.items() for part in (f"--{name}", value))]
        with (Path(self._tmp.name) / "redis.log").open("wb") as log:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent(),  # noqa: PLW1509  the hook only calls prctl
            )

    def _log_tail(self) -> str:
        if self._tmp is None:
            return ""
        with contextlib.suppress(OSError):
            text = (Path(self._tmp.name) / "redis.log").read_text(errors="replace")
            return "\n".join(text.splitlines()[-15:])
        return ""

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Block until the server answers PING; raise if it exits or never answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise RedisServerError(f"redis-server exited early:\n{self._log_tail()}")
            if _answers_ping(self.port):
                return
            time.sleep(0.02)
        raise RedisServerError(f"redis-server not ready after {timeout}s:\n{self._log_tail()}")

    def stop(self) -> None:
        """Terminate the server and wait for it; the port is kept for ``restart``."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            tmp.cleanup()

    def restart(self) -> None:
        """Stop (if running) and start again on the same port, with no data."""
        self.stop()
        self.start()

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


#: The prefix of the counts per organisation and week (bot/stats.py): they name no chat.
COUNTS_PREFIX = b"dcb:s:"


def all_keys_with_ttl(url: str, *, counts: bool = False) -> dict[str, int]:
    """Every key in the database at ``url`` with its PTTL in ms (-1: no TTL). The counts per
    organisation and week, which belong to no conversation, only with ``counts``."""
    with redis.Redis.from_url(url) as client:
        found: dict[str, int] = {}
        for raw in client.scan_iter(count=1000):
            if not counts and bytes(raw).startswith(COUNTS_PREFIX):
                continue
            ttl = int(client.pttl(raw))
            if ttl != -2:  # -2: expired between SCAN and PTTL
                found[bytes(raw).decode("utf-8", "backslashreplace")] = ttl
        return found


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server for the whole session."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The private server's URL, running and empty at the start of the test."""
    redis_server.start()  # a previous test may have stopped it
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    return redis_server.url
