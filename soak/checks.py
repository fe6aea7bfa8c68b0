"""Checks after the run: Redis hygiene, personal data in Redis and in the workers' logs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.redis_server import all_keys_with_ttl

__all__ = ["LogScan", "RedisScan", "scan_logs", "scan_redis"]

_NUMBER = re.compile(rb"\d{6,}")


def _has_id(data: bytes, ids: set[bytes]) -> bool:
    """Whether any id appears in `data`, also inside a longer run of digits."""
    lengths = {len(i) for i in ids}
    for run in _NUMBER.findall(data):
        for n in lengths:
            if any(run[k : k + n] in ids for k in range(len(run) - n + 1)):
                return True
    return False


_TRACEBACK = b"Traceback (most recent call last)"
_UNCAUGHT = b"Uncaught exception"
_HANDLER_ERROR = b"handler error:"


@dataclass
class RedisScan:
    keys: int = 0
    without_ttl: list[str] = field(default_factory=list)
    ids_in_keys: int = 0
    ids_in_values: int = 0
    present: set[str] = field(default_factory=set)


def scan_redis(url: str, ids: set[bytes]) -> RedisScan:
    """Every key's TTL, and whether any raw id appears in a key or a value."""
    scan = RedisScan()
    ttls = all_keys_with_ttl(url, counts=True)  # the counts per organisation and week too
    scan.keys = len(ttls)
    scan.present = set(ttls)
    scan.without_ttl = [key for key, ttl in ttls.items() if ttl < 0]
    with redis.Redis.from_url(url) as client:
        for key in ttls:
            raw_key = key.encode()
            if _has_id(raw_key, ids):
                scan.ids_in_keys += 1
            value = client.get(raw_key) if client.type(raw_key) == b"string" else None
            if isinstance(value, bytes) and _has_id(value, ids):
                scan.ids_in_values += 1
    return scan


@dataclass
class LogScan:
    bytes_read: int = 0
    lines: int = 0
    tracebacks: int = 0
    uncaught: int = 0
    handler_errors: int = 0
    error_lines: int = 0
    ids_found: int = 0
    names_found: int = 0
    samples: list[str] = field(default_factory=list)


def scan_logs(paths: list[Path], ids: set[bytes], names: list[bytes]) -> LogScan:
    """Crashes, errors, raw ids and names in the workers' logs."""
    scan = LogScan()
    for path in paths:
        if not path.exists():
            continue
        data = path.read_bytes()
        scan.bytes_read += len(data)
        for line in data.splitlines():
            scan.lines += 1
            bad = False
            if _TRACEBACK in line:
                scan.tracebacks += 1
                bad = True
            if _UNCAUGHT in line:
                scan.uncaught += 1
                bad = True
            if _HANDLER_ERROR in line:
                scan.handler_errors += 1
                bad = True
            if b" ERROR " in line or b" CRITICAL " in line:
                scan.error_lines += 1
                bad = True
            if _has_id(line, ids):
                scan.ids_found += 1
                bad = True
            if any(name in line for name in names):
                scan.names_found += 1
                bad = True
            if bad and len(scan.samples) < 8:
                scan.samples.append(f"{path.name}: {line[:200].decode(errors='replace')}")
    return scan
