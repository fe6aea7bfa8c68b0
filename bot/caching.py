"""`Bounded`: a dict that keeps at most a given number of entries, the oldest put first out.

For caches whose keys keep coming (keyboards carry turn numbers): when full, the oldest
entry makes room, so the current ones are still cached in a long-running process.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["Bounded"]

K = TypeVar("K")
V = TypeVar("V")


class Bounded(dict[K, V]):
    """At most `limit` entries; `put` drops the oldest when full."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: K, value: V) -> V:
        """Store `value` under `key` and return it."""
        if key not in self and len(self) >= self.limit:
            del self[next(iter(self))]
        self[key] = value
        return value
