"""``MemoryStore``: the embedded, single-process state store (the default backend).

It keeps the same serialised records as the Redis store and applies the same
compare-and-set rules, with the TTL enforced against an injectable clock.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from bot.storage.base import (
    ABSENT,
    CasResult,
    CasStatus,
    Snapshot,
    decode_record,
    encode_record,
    first_version_one,
    keep_recent,
    next_version,
    validate_cas_args,
)

__all__ = ["DEFAULT_MEMORY_TTL_SECONDS", "MemoryStore"]

DEFAULT_MEMORY_TTL_SECONDS = 24 * 60 * 60


class MemoryStore:
    """In-process ``StateStore``.

    Every method runs to completion without awaiting, so each call is atomic with
    respect to other asyncio tasks. Expired entries are invisible at once and are
    dropped lazily: on access, and from the oldest end on every write.
    """

    def __init__(
        self,
        *,
        ttl_seconds: float = DEFAULT_MEMORY_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        first_version: Callable[[], int] = first_version_one,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._ttl = float(ttl_seconds)
        self._clock = clock
        self._first_version = first_version
        # key -> (deadline, record). Every write re-inserts its key at the end with
        # deadline now + ttl, so the order is also deadline order: purging only ever
        # has to look at the front.
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        """Entries held, including expired ones not purged yet."""
        return len(self._entries)

    def _load(self, key: str, now: float) -> Snapshot:
        entry = self._entries.get(key)
        if entry is None:
            return ABSENT
        deadline, record = entry
        if deadline <= now:
            del self._entries[key]
            return ABSENT
        return decode_record(record)

    def _purge_expired(self, now: float) -> None:
        entries = self._entries
        while entries:
            oldest = next(iter(entries))
            if entries[oldest][0] > now:
                return
            del entries[oldest]

    async def get(self, key: str) -> Snapshot:
        return self._load(key, self._clock())

    async def compare_and_set(
        self,
        key: str,
        *,
        expected: int,
        data: bytes | None,
        update_id: int | None = None,
    ) -> CasResult:
        payload = validate_cas_args(expected, data)
        now = self._clock()
        current = self._load(key, now)
        if update_id is not None and current.applied(update_id):
            return CasResult(CasStatus.DUPLICATE, current)
        if current.version != expected:
            return CasResult(CasStatus.CONFLICT, current)
        if payload is None:
            self._entries.pop(key, None)
            return CasResult(CasStatus.OK, ABSENT)
        version = next_version(expected, self._first_version)
        recent = keep_recent(current.recent, update_id)
        self._entries.pop(key, None)
        self._entries[key] = (now + self._ttl, encode_record(version, recent, payload))
        self._purge_expired(now)
        return CasResult(CasStatus.OK, Snapshot(version, payload, recent))

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        """Nothing to release; the data stays readable (closing is not forgetting)."""
