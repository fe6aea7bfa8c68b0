"""`RespClient`, the store's pipelined Redis connection, against a real redis-server (and,
for the timeout, a loopback server that never answers)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.storage import CasStatus, RedisStore, StoreUnavailable
from bot.storage.resp import Endpoint, ReplyError, RespClient, Script, pack
from tests.redis_server import RedisServer


def test_pack_is_resp() -> None:
    assert pack((b"GET", "ключ", 12)) == (
        b"*3\r\n$3\r\nGET\r\n$8\r\n" + "ключ".encode() + b"\r\n$2\r\n12\r\n"
    )


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("redis://127.0.0.1:6390/0", Endpoint(port=6390)),
        ("redis://cache", Endpoint(host="cache")),
        ("redis://:p%40ss@h:1/2", Endpoint(host="h", port=1, password="p@ss", db=2)),
        ("rediss://u:pw@h/5", Endpoint(host="h", tls=True, username="u", password="pw", db=5)),
        ("unix:///run/redis.sock?db=3", Endpoint(path="/run/redis.sock", db=3)),
    ],
)
def test_endpoint_from_url(url: str, endpoint: Endpoint) -> None:
    assert Endpoint.from_url(url) == endpoint


def test_endpoint_refuses_other_schemes() -> None:
    with pytest.raises(ValueError, match="redis://"):
        Endpoint.from_url("http://127.0.0.1:6379")


@pytest.mark.redis
async def test_password_and_database() -> None:
    with RedisServer() as server:
        with redis.Redis.from_url(server.url) as admin:
            admin.config_set("requirepass", "s3cret")
        port = server.url.rsplit(":", 1)[1].split("/")[0]
        client = RespClient(
            Endpoint.from_url(f"redis://:s3cret@127.0.0.1:{port}/3"),
            connect_timeout=2,
            timeout=2,
        )
        try:
            assert await client.call(b"SET", b"k", b"v") == b"OK"
            with redis.Redis.from_url(f"redis://:s3cret@127.0.0.1:{port}/3") as admin:
                assert admin.get("k") == b"v"
            with redis.Redis.from_url(f"redis://:s3cret@127.0.0.1:{port}/0") as admin:
                assert admin.get("k") is None
        finally:
            await client.close()
        wrong = RespClient(
            Endpoint.from_url(f"redis://:nope@127.0.0.1:{port}/0"), connect_timeout=2, timeout=2
        )
        try:
            with pytest.raises(ReplyError, match=r"WRONGPASS|invalid"):
                await wrong.call(b"PING")
        finally:
            await wrong.close()


@pytest.mark.redis
async def test_script_is_loaded_again_after_a_flush(redis_url: str) -> None:
    client = RespClient(Endpoint.from_url(redis_url), connect_timeout=2, timeout=2)
    script = Script(client, "return ARGV[1] .. KEYS[1]")
    try:
        assert await script([b"k"], [b"a"]) == b"ak"
        with redis.Redis.from_url(redis_url) as admin:
            admin.script_flush()
        assert await script([b"k"], [b"b"]) == b"bk"
        with pytest.raises(ReplyError):
            await client.call(b"NOSUCHCOMMAND")
        assert await client.call(b"PING") == b"PONG"  # an error reply keeps the connection
    finally:
        await client.close()


async def test_a_server_that_never_answers_times_out() -> None:
    """Redis stuck: the store says unavailable after the command timeout, not never."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads everything, answers nothing
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RespClient(Endpoint(port=port), connect_timeout=1, timeout=0.3)
    store = RedisStore(client, ttl_seconds=60)
    started = time.monotonic()
    try:
        results = await asyncio.gather(store.get("a"), store.get("b"), return_exceptions=True)
        assert all(isinstance(r, StoreUnavailable) for r in results)
        assert time.monotonic() - started < 2
    finally:
        await store.close()
        server.close()
        await server.wait_closed()


@pytest.fixture
def unix_redis(tmp_path: Path) -> Iterator[Path]:
    """A private redis-server listening on a unix socket only."""
    binary = shutil.which("redis-server")
    assert binary is not None
    sock = tmp_path / "redis.sock"
    proc = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield sock
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.redis
async def test_unix_socket(unix_redis: Path) -> None:
    """`unix:///path?db=N`: the store works over a local socket too."""
    store = RedisStore.from_url(f"unix://{unix_redis}?db=2", ttl_seconds=60)
    try:
        written = await store.compare_and_set("k", expected=0, data=b"x")
        assert written.status is CasStatus.OK
        assert (await store.get("k")).data == b"x"
    finally:
        await store.close()
    with redis.Redis(unix_socket_path=str(unix_redis), db=2) as admin:
        assert admin.exists("k") == 1


@pytest.mark.redis
async def test_tcp_connection_keeps_alive(redis_url: str) -> None:
    """As the redis-py pool did: TCP keepalive on the store's connection."""
    client = RespClient(Endpoint.from_url(redis_url), connect_timeout=2, timeout=2)
    try:
        await client.call(b"PING")
        assert client._conn is not None
        assert client._conn._transport is not None
        sock = client._conn._transport.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    finally:
        await client.close()
