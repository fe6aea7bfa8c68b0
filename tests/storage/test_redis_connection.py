"""The store's connection to Redis as the settings make it (`bot.compose.redis_client`):
password and database, TLS with a private CA and a client certificate, a unix socket, a
script flushed away, a server that never answers, and settings that cannot work."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from pydantic import ValidationError

from bot.compose import redis_client
from bot.config import Settings
from bot.storage import CasStatus, RedisStore, StoreUnavailable
from bot.storage.base import RECENT_LIMIT
from bot.storage.redis import CAS_SCRIPT
from tests.redis_server import RedisServer, redis_client_for, store_on

TTL = 60


def _settings(**values: object) -> Settings:
    return Settings(**values, _env_file=None)  # type: ignore[arg-type]


def test_the_script_keeps_as_many_ids_as_the_codec() -> None:
    limit = re.search(r"local LIMIT = (\d+)", CAS_SCRIPT)
    assert limit is not None
    assert int(limit.group(1)) == RECENT_LIMIT


def test_the_password_is_never_printed() -> None:
    settings = _settings(redis_url="redis://:pa55word@cache:6379/0")
    assert "pa55word" not in repr(settings)
    assert "pa55word" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"redis_sentinels": "a:1", "redis_url": "redis://"}, "SENTINEL_SERVICE"),
        ({"redis_sentinels": "a", "redis_sentinel_service": "s"}, "host:port"),
        ({"redis_sentinels": "a:1", "redis_sentinel_service": "s"}, "REDIS_URL"),
        ({"redis_cluster": True}, "REDIS_URL"),
        (
            {"redis_sentinels": "a:1", "redis_sentinel_service": "s", "redis_cluster": True},
            "not both",
        ),
    ],
)
def test_settings_that_cannot_work_are_refused(values: dict[str, object], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        _settings(**values)


def test_tls_files_need_a_tls_url() -> None:
    settings = _settings(redis_url="redis://cache:6379/0", redis_ca_file="/etc/ca.pem")
    with pytest.raises(SystemExit, match="rediss://"):
        redis_client(settings)


@pytest.mark.redis
async def test_password_and_database() -> None:
    with RedisServer() as server:
        with redis.Redis.from_url(server.url) as admin:
            admin.config_set("requirepass", "s3cret")
        url = f"redis://:s3cret@127.0.0.1:{server.port}/3"
        store = store_on(url, ttl_seconds=TTL)
        try:
            assert (await store.compare_and_set("k", expected=0, data=b"v")).status is CasStatus.OK
        finally:
            await store.close()
        with redis.Redis.from_url(url) as admin:
            assert admin.get("k") == b"1||v"
            assert admin.execute_command("CLIENT", "LIST")  # still answers
        with redis.Redis.from_url(f"redis://:s3cret@127.0.0.1:{server.port}/0") as admin:
            assert admin.get("k") is None
        wrong = store_on(f"redis://:nope@127.0.0.1:{server.port}/0", ttl_seconds=TTL)
        try:
            with pytest.raises(StoreUnavailable) as caught:
                await wrong.get("k")
            assert "nope" not in str(caught.value)
        finally:
            await wrong.close()


@pytest.mark.redis
async def test_the_script_is_loaded_again_after_a_flush(redis_url: str) -> None:
    store = store_on(redis_url, ttl_seconds=TTL)
    try:
        assert (await store.compare_and_set("k", expected=0, data=b"a")).status is CasStatus.OK
        with redis.Redis.from_url(redis_url) as admin:
            admin.script_flush()
        assert (await store.compare_and_set("k", expected=1, data=b"b")).status is CasStatus.OK
    finally:
        await store.close()


async def test_a_server_that_never_answers_times_out() -> None:
    """Redis stuck: the store says unavailable after the reply timeout, not never, and a
    timeout is not tried again."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads everything, answers nothing
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = redis_client_for(f"redis://127.0.0.1:{port}/0")
    client.connection_pool.connection_kwargs["socket_timeout"] = 0.3
    store = RedisStore(client, ttl_seconds=TTL)
    started = time.monotonic()
    try:
        results = await asyncio.gather(store.get("a"), store.get("b"), return_exceptions=True)
        assert all(isinstance(r, StoreUnavailable) for r in results), results
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
    store = store_on(f"unix://{unix_redis}?db=2", ttl_seconds=TTL)
    try:
        assert (await store.compare_and_set("k", expected=0, data=b"x")).status is CasStatus.OK
        assert (await store.get("k")).data == b"x"
    finally:
        await store.close()
    with redis.Redis(unix_socket_path=str(unix_redis), db=2) as admin:
        assert admin.exists("k") == 1


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


@pytest.fixture
def certificates(tmp_path: Path) -> Path:
    """A private CA, a server certificate for 127.0.0.1 and a client certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make test certificates")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
             "-subj", "/CN=decree-test-ca", cwd=tmp_path)  # fmt: skip
    (tmp_path / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name in ("server", "client"):
        _openssl("req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=tmp_path)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.crt", "-days", "1",
                 "-extfile", "san.ext", cwd=tmp_path)  # fmt: skip
    return tmp_path


@pytest.mark.redis
async def test_tls_with_a_private_ca_and_a_client_certificate(certificates: Path) -> None:
    """rediss:// with DECREEBOT_REDIS_CA_FILE, _CERT_FILE and _KEY_FILE against a Redis that
    demands a client certificate; without one, or without the CA, no connection."""
    tls = {
        "tls-port": "0",  # set below, once the free port is known
        "tls-cert-file": str(certificates / "server.crt"),
        "tls-key-file": str(certificates / "server.key"),
        "tls-ca-cert-file": str(certificates / "ca.crt"),
        "tls-auth-clients": "yes",
    }
    with RedisServer() as probe:
        tls_port = probe.port  # a port that was free a moment ago
    server = RedisServer(options={**tls, "tls-port": str(tls_port)})
    with server:
        url = f"rediss://127.0.0.1:{tls_port}/0"
        files = {
            "redis_ca_file": certificates / "ca.crt",
            "redis_cert_file": certificates / "client.crt",
            "redis_key_file": certificates / "client.key",
        }
        store = RedisStore(redis_client(_settings(redis_url=url, **files)), ttl_seconds=TTL)
        try:
            assert (await store.compare_and_set("k", expected=0, data=b"x")).status is CasStatus.OK
        finally:
            await store.close()
        with redis.Redis.from_url(server.url) as admin:
            assert admin.get("k") == b"1||x"
        for missing in ("redis_cert_file", "redis_ca_file"):
            partial = {name: path for name, path in files.items() if name != missing}
            if missing == "redis_cert_file":
                partial.pop("redis_key_file")
            refused = RedisStore(redis_client(_settings(redis_url=url, **partial)), ttl_seconds=TTL)
            try:
                assert await refused.ping() is False, missing
            finally:
                await refused.close()
