"""Private, throwaway Redis servers for the tests (one server, a 3-master Cluster, a
master with a replica and three Sentinels), their pytest fixtures, the bot's own client and
store on them, and Redis key-hygiene helpers.

The suite never touches a shared Redis: ``RedisServer`` runs its own ``redis-server``
(from PATH) on a free loopback port, without persistence, in a temporary directory.
Register this module as a pytest plugin (``pytest_plugins = ["tests.redis_server"]`` in
the root conftest) to get the ``redis_server`` (session) and ``redis_url`` (per test,
flushed) fixtures, and ``redis_cluster`` / ``redis_sentinel`` (session, started on first use).
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
from typing import Any

import pytest
import redis

__all__ = [
    "COUNTS_PREFIX",
    "RedisCluster",
    "RedisSentinels",
    "RedisServer",
    "RedisServerError",
    "all_keys_with_ttl",
    "redis_client_for",
    "redis_cluster",
    "redis_sentinel",
    "redis_server",
    "redis_url",
    "store_on",
]

_HOST = "127.0.0.1"
_SHARED_PORT = 6379  # the machine's own Redis: never ours to start, flush or stop
_START_ATTEMPTS = 5  # a freshly picked free port can be taken before redis binds it
_BUS_OFFSET = 10000  # a cluster node's bus port is its port + 10000
_WAIT_SECONDS = 20.0  # the longest any set-up step may take


class RedisServerError(RuntimeError):
    """The private redis-server could not be started."""


def _free_port(*, bus: bool = False) -> int:
    """A free loopback port; with `bus`, one whose cluster bus port (+10000) is free too."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((_HOST, 0))
            port: int = sock.getsockname()[1]
        if not bus:
            return port
        if port + _BUS_OFFSET < 65536:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind((_HOST, port + _BUS_OFFSET))
                except OSError:
                    continue
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

    def __init__(
        self,
        *,
        port: int | None = None,
        binary: str | None = None,
        options: dict[str, str] | None = None,
        sentinel: str | None = None,
        bus: bool = False,
    ) -> None:
        """`options`: more redis-server options; `sentinel`: run as a Sentinel with this
        configuration; `bus`: a Cluster node (its bus port must be free too)."""
        if port == _SHARED_PORT:
            raise ValueError("port 6379 belongs to the shared Redis; pick another")
        self._port = port
        self._binary = binary
        self._options = options or {}
        self._sentinel = sentinel
        self._bus = bus
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
            port = (
                self._port if fixed_port and self._port is not None else _free_port(bus=self._bus)
            )
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
            **self._options,
        }
        argv = [binary, *(part for name, value in options.items() for part in (f"--{name}", value))]
        if self._sentinel is not None:  # a Sentinel rewrites its configuration file
            conf = Path(self._tmp.name) / "sentinel.conf"
            conf.write_text(self._sentinel)
            argv[1:1] = [str(conf), "--sentinel"]
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


def _wait_for(what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + _WAIT_SECONDS
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.RedisError):
            if ready():
                return
        time.sleep(0.05)
    raise RedisServerError(f"{what}: not ready after {_WAIT_SECONDS}s")


class RedisCluster:
    """Three private cluster-enabled redis-servers made one Redis Cluster of three masters
    (`redis-cli --cluster create`), no replicas."""

    def __init__(self) -> None:
        options = {"cluster-enabled": "yes", "cluster-node-timeout": "2000"}
        self.nodes = [RedisServer(options=options, bus=True) for _ in range(3)]

    @property
    def url(self) -> str:
        """One node's URL (the client finds the others from it)."""
        return self.nodes[0].url

    def start(self) -> None:
        for node in self.nodes:
            node.start()  # each writes its nodes.conf in its own temporary directory
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RedisServerError("redis-cli not found on PATH (Debian: redis-tools)")
        addresses = [f"{_HOST}:{node.port}" for node in self.nodes]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=_WAIT_SECONDS,
        )
        for node in self.nodes:
            _wait_for("cluster", lambda node=node: _cluster_ok(node.url))

    def flush(self) -> None:
        for node in self.nodes:
            with redis.Redis.from_url(node.url) as client:
                client.flushall()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def _cluster_ok(url: str) -> bool:
    with redis.Redis.from_url(url) as client:
        info = client.cluster("info")
        return bool(info["cluster_state"] == "ok" and int(info["cluster_known_nodes"]) == 3)


SENTINEL_SERVICE = "decree"


class RedisSentinels:
    """A private master, its replica, and three Sentinels watching them (quorum 2)."""

    def __init__(self) -> None:
        # No 5-second wait for more replicas before the first sync (the default); either
        # server may be master, so both are set so.
        self._options = {"repl-diskless-sync-delay": "0"}
        self.master = RedisServer(options=self._options)
        self.replica: RedisServer | None = None
        self.sentinels: list[RedisServer] = []

    @property
    def addresses(self) -> str:
        """The Sentinels as DECREEBOT_REDIS_SENTINELS wants them."""
        return ",".join(f"{_HOST}:{s.port}" for s in self.sentinels)

    def start(self) -> None:
        self.master.start()
        replica = self.replica = RedisServer(
            options={**self._options, "replicaof": f"{_HOST} {self.master.port}"}
        )
        replica.start()
        _wait_for("replica", lambda: _replica_in_sync(replica.url))
        config = (
            f"sentinel monitor {SENTINEL_SERVICE} {_HOST} {self.master.port} 2\n"
            f"sentinel down-after-milliseconds {SENTINEL_SERVICE} 2000\n"
            f"sentinel failover-timeout {SENTINEL_SERVICE} 6000\n"
            f"sentinel known-replica {SENTINEL_SERVICE} {_HOST} {replica.port}\n"
        )
        # Each Sentinel is told of the others up front (they would find each other through
        # the master within seconds): ids and ports are chosen here.
        ports, ids = [_free_port() for _ in range(3)], [f"{n + 1:040x}" for n in range(3)]
        self.sentinels = []
        for me in range(3):
            known = "".join(
                f"sentinel known-sentinel {SENTINEL_SERVICE} {_HOST} {ports[n]} {ids[n]}\n"
                for n in range(3)
                if n != me
            )
            own = f"sentinel myid {ids[me]}\n{config}{known}"
            self.sentinels.append(RedisServer(port=ports[me], sentinel=own))
        for sentinel in self.sentinels:
            sentinel.start()
        for sentinel in self.sentinels:
            _wait_for("sentinel", lambda sentinel=sentinel: _sentinel_sees_all(sentinel.url))

    def master_url(self) -> str:
        """The URL of whichever server the Sentinels now call master."""
        with redis.Redis.from_url(self.sentinels[0].url) as client:
            host, port = client.sentinel_get_master_addr_by_name(SENTINEL_SERVICE)
        return f"redis://{host.decode()}:{port}/0"

    def flush(self) -> None:
        with redis.Redis.from_url(self.master_url()) as client:
            client.flushall()

    def failover(self) -> None:
        """SENTINEL FAILOVER; returns once the Sentinels name the other server master."""
        before = self.master_url()
        with redis.Redis.from_url(self.sentinels[0].url) as client:
            client.execute_command("SENTINEL", "FAILOVER", SENTINEL_SERVICE)
        _wait_for("failover", lambda: self.master_url() != before)

    def stop(self) -> None:
        for server in (*self.sentinels, self.replica, self.master):
            if server is not None:
                server.stop()


def _replica_in_sync(url: str) -> bool:
    with redis.Redis.from_url(url) as client:
        info = client.info("replication")
        return bool(info["role"] == "slave" and info["master_link_status"] == "up")


def _sentinel_sees_all(url: str) -> bool:
    with redis.Redis.from_url(url) as client:
        replicas = client.execute_command("SENTINEL", "REPLICAS", SENTINEL_SERVICE)
        others = client.execute_command("SENTINEL", "SENTINELS", SENTINEL_SERVICE)
        return len(replicas) == 1 and len(others) == 2


def redis_client_for(url: str, *, cluster: bool = False, sentinels: str | None = None) -> Any:
    """The bot's own client (``bot.compose.redis_client``) for these settings."""
    from bot.compose import redis_client  # noqa: PLC0415 - the plugin loads before the bot
    from bot.config import Settings  # noqa: PLC0415

    settings = Settings(
        redis_url=url,
        redis_cluster=cluster,
        redis_sentinels=sentinels,
        redis_sentinel_service=SENTINEL_SERVICE if sentinels else None,
        _env_file=None,  # type: ignore[call-arg]
    )
    return redis_client(settings)


def store_on(
    url: str,
    *,
    ttl_seconds: int,
    first_version: Callable[[], int] | None = None,
    cluster: bool = False,
    sentinels: str | None = None,
) -> Any:
    """A ``RedisStore`` on the bot's own client for `url` (see ``redis_client_for``)."""
    from bot.storage import RedisStore  # noqa: PLC0415

    client = redis_client_for(url, cluster=cluster, sentinels=sentinels)
    if first_version is None:
        return RedisStore(client, ttl_seconds=ttl_seconds)
    return RedisStore(client, ttl_seconds=ttl_seconds, first_version=first_version)


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


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    """A private 3-master Redis Cluster for the whole session (started on first use)."""
    cluster = RedisCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_sentinel() -> Iterator[RedisSentinels]:
    """A private master, replica and three Sentinels for the session (started on first use)."""
    sentinels = RedisSentinels()
    try:
        sentinels.start()
        yield sentinels
    finally:
        sentinels.stop()
