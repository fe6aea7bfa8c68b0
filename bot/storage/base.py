"""The state-store contract: snapshot and result types, the ``StateStore`` protocol,
``StoreUnavailable``, and the record codec shared by every implementation.

A stored record is one compact byte string::

    <version>|<id,id,..>|<payload>

``version`` is canonical decimal (no sign, no leading zeros), the ids are the update ids
recently applied to the conversation in canonical base 36 (newest last, at most
``RECENT_LIMIT``), and the payload is opaque bytes that may contain anything, including
``|``, so a record is split on its first two separators only. Both stores keep exactly
these bytes, so they share ``encode_record``/``decode_record``; the Redis Lua script
relies on the ids being canonical to compare them as strings.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "ABSENT",
    "RECENT_LIMIT",
    "Booking",
    "CasResult",
    "CasStatus",
    "Snapshot",
    "StateStore",
    "StoreUnavailable",
    "decode_record",
    "encode_id",
    "encode_record",
    "keep_recent",
    "validate_cas_args",
]

RECENT_LIMIT = 4
"""How many recently applied update ids a record remembers for dedupe."""

_SEP = b"|"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a store holds for one key at one moment."""

    version: int
    """0 when absent; 1 after the first write, then +1 per write."""
    data: bytes | None
    """The opaque payload; ``None`` when absent."""
    recent: tuple[int, ...]
    """Update ids recently applied to this conversation, newest last, for dedupe."""


ABSENT = Snapshot(0, None, ())


class CasStatus(enum.Enum):
    """Outcome of ``StateStore.compare_and_set``."""

    OK = "ok"
    CONFLICT = "conflict"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Booking:
    """A moment to book in a pace shared by processes, with the same write (one round trip
    for both): ``key`` holds the pace's next free moment, ``interval`` seconds apart."""

    key: str
    interval: float


@dataclass(frozen=True, slots=True)
class CasResult:
    """``snapshot`` is the new stored snapshot on OK, the current stored one otherwise."""

    status: CasStatus
    snapshot: Snapshot
    #: With a ``Booking`` and a write: 0.0 booked now, else the seconds until the pace is
    #: free (nothing booked). None: nothing was tried (no booking, no write, or a store
    #: without shared paces).
    booked: float | None = None


class StoreUnavailable(Exception):  # noqa: N818  the name is the agreed public API
    """The backend cannot be reached or cannot serve the request right now."""


@runtime_checkable
class StateStore(Protocol):
    """Versioned per-key storage of conversation state.

    ``compare_and_set`` is atomic per key and decides, in this order:

    1. ``update_id`` is in the stored ``recent`` -> DUPLICATE, nothing written;
    2. stored version != ``expected`` -> CONFLICT, nothing written;
    3. ``data`` is None -> the key is deleted (the dedupe list goes with it) -> OK
       with ``Snapshot(0, None, ())``;
    4. otherwise the data is stored with version ``expected + 1``, ``update_id`` is
       appended to ``recent`` (last ``RECENT_LIMIT`` kept) and the TTL is reset to the
       store's TTL -> OK with the new snapshot; a ``booking`` is tried with the write
       (``CasResult.booked``), by stores that share paces between processes.

    ``get`` does not extend the TTL. Every method except ``ping`` raises
    ``StoreUnavailable`` when the backend cannot be reached; ``ping`` never raises.
    """

    async def get(self, key: str) -> Snapshot: ...

    async def compare_and_set(
        self,
        key: str,
        *,
        expected: int,
        data: bytes | None,
        update_id: int | None = None,
        booking: Booking | None = None,
    ) -> CasResult: ...

    async def delete(self, key: str) -> None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


def encode_id(value: int) -> str:
    """Canonical base-36 text of an integer: lowercase, no leading zeros, '-' if negative."""
    if value == 0:
        return "0"
    sign, n = ("-", -value) if value < 0 else ("", value)
    out: list[str] = []
    while n:
        n, digit = divmod(n, 36)
        out.append(_DIGITS[digit])
    return sign + "".join(reversed(out))


def keep_recent(recent: Iterable[int], update_id: int | None) -> tuple[int, ...]:
    """``recent`` with ``update_id`` appended (if any), trimmed to the newest few."""
    ids = tuple(recent) if update_id is None else (*recent, update_id)
    return ids[-RECENT_LIMIT:]


def encode_record(version: int, recent: Iterable[int], data: bytes) -> bytes:
    """Serialise one stored record (see the module docstring for the layout)."""
    ids = ",".join(encode_id(i) for i in recent)
    return b"%d|%s|%s" % (version, ids.encode("ascii"), data)


def decode_record(raw: bytes | None) -> Snapshot:
    """Parse a stored record; ``None`` (no such key) is the absent snapshot.

    Raises ``ValueError`` on a malformed record.
    """
    if raw is None:
        return ABSENT
    parts = raw.split(_SEP, 2)
    if len(parts) != 3 or not parts[0].isdigit():
        raise ValueError("malformed state record")
    version, ids, data = parts
    recent = tuple(int(i, 36) for i in ids.split(b",")) if ids else ()
    return Snapshot(int(version), data, recent)


def validate_cas_args(expected: int, data: bytes | None) -> bytes | None:
    """Reject impossible CAS arguments early; returns ``data`` as immutable ``bytes``."""
    if expected < 0:
        raise ValueError("expected version must be >= 0")
    if data is None:
        return None
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("data must be bytes or None")
    return bytes(data)


def first_version_one() -> int:
    """Version of a newly created conversation: 1 (deterministic; the default for tests)."""
    return 1


def random_first_version() -> int:
    """Version of a newly created conversation, drawn at random.

    The service caches snapshots per process. If a conversation is deleted and created again
    elsewhere, counting from 1 again could make a stale cached version match by chance; a
    random start makes that practically impossible.
    """
    return secrets.randbelow(2**31 - 1) + 1


def next_version(expected: int, first: Callable[[], int]) -> int:
    """The version a successful write stores."""
    return expected + 1 if expected else first()
