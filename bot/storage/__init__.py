"""Conversation state storage: the ``StateStore`` contract, its in-memory and Redis
implementations, and the keyed-hash conversation keys."""

from bot.storage.base import (
    ABSENT,
    CasResult,
    CasStatus,
    Snapshot,
    StateStore,
    StoreUnavailable,
    random_first_version,
)
from bot.storage.keys import KeyMaker, conversation_key
from bot.storage.memory import MemoryStore
from bot.storage.redis import RedisStore

__all__ = [
    "ABSENT",
    "CasResult",
    "CasStatus",
    "KeyMaker",
    "MemoryStore",
    "RedisStore",
    "Snapshot",
    "StateStore",
    "StoreUnavailable",
    "conversation_key",
    "random_first_version",
]
