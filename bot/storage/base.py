"""The state-store contract: snapshot and result types, the ``StateStore`` protocol,
``StoreUnavailable``, and the record codec shared by every implementation.

A stored record is one compact byte string::

    <version>|<id,id,..>|<payload>

``version`` is canonical decimal (no sign, no leading zeros), the ids are the greatest update
ids applied to the conversation, in canonical base 36 (in the order applied, at most
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
    "CasResult",
    "CasStatus",
    "Snapshot",
    "StateStore",
    "StoreUnavailable",
    "decode_record",
    "encode_id",
    "encode_record",
    "is_applied",
    "keep_recent",
    "validate_cas_args",
]

RECENT_LIMIT = 4
"""How many update ids a record keeps for dedupe: the greatest applied. Once it keeps this
many, every id below the smallest kept counts as applied too (``is_applied``), so the dedupe
covers every update ever applied to the conversation while its record lives (at least the
session TTL, 10 minutes or more, after the last one), in a few bytes."""

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
    """The greatest update ids applied to this conversation, in the order applied (newest
    last), for dedupe: see ``is_applied``."""

    def applied(self, update_id: int) -> bool:
        """Whether the update was applied to this conversation already."""
        return is_applied(self.recent, update_id)


ABSENT = Snapshot(0, None, ())


class CasStatus(enum.Enum):
    """Outcome of ``StateStore.compare_and_set``."""

    OK = "ok"
    CONFLICT = "conflict"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class CasResult:
    """``snapshot`` is the new stored snapshot on OK, the current stored one otherwise."""

    status: CasStatus
    snapshot: Snapshot


class StoreUnavailable(Exception):  # noqa: N818  the name is the agreed public API
    """The backend cannot be reached or cannot serve the request right now."""


@runtime_checkable
class StateStore(Protocol):
    """Versioned per-key storage of conversation state.

    ``compare_and_set`` is atomic per key and decides, in this order:

    1. ``update_id`` was applied (``Snapshot.applied``) -> DUPLICATE, nothing written;
    2. stored version != ``expected`` -> CONFLICT, nothing written;
    3. ``data`` is None -> the key is deleted (the dedupe list goes with it) -> OK
       with ``Snapshot(0, None, ())``;
    4. otherwise the data is stored with version ``expected + 1``, ``update_id`` is
       appended to ``recent`` (``keep_recent``) and the TTL is reset to the store's TTL
       -> OK with the new snapshot.

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


def is_applied(recent: tuple[int, ...], update_id: int) -> bool:
    """Whether an update was applied, given the ids a record keeps: one of them, or, once
    ``RECENT_LIMIT`` are kept, below the smallest (``keep_recent`` forgets only the smallest
    id, so every id it ever forgot is below the smallest it keeps).

    An update overtaken by ``RECENT_LIMIT`` later ones of the same chat is dropped as
    applied, as its screen is long gone anyway.
    """
    return update_id in recent or (len(recent) >= RECENT_LIMIT and update_id < min(recent))


def keep_recent(recent: Iterable[int], update_id: int | None) -> tuple[int, ...]:
    """``recent`` with ``update_id`` appended (if any); beyond ``RECENT_LIMIT`` ids the
    smallest is forgotten (still covered: see ``is_applied``)."""
    ids = list(recent)
    if update_id is not None:
        ids.append(update_id)
    if len(ids) > RECENT_LIMIT:
        ids.remove(min(ids))
    return tuple(ids)


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
