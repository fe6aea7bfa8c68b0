"""Storage keys for conversations: a keyed hash of (bot id, chat id), never the raw ids.

Anyone who can read the store (a shared Redis, a dump) sees only
``<prefix>{<22 base64url chars>}``; linking a key to a Telegram chat needs the secret.
The hash is a Redis Cluster hash tag: every key of one chat (its conversation, its pace)
has the same hash under its own prefix, so all of them live in one slot, and one script may
touch several of them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field

__all__ = ["DEFAULT_PREFIX", "KeyMaker", "conversation_key"]

DEFAULT_PREFIX = "dcb:c:"
_DIGEST_BYTES = 16  # 128 bits: collisions are not a concern at any realistic chat count


def conversation_key(
    secret: bytes, bot_id: int, chat_id: int, *, prefix: str = DEFAULT_PREFIX
) -> str:
    """``prefix`` + ``{`` + unpadded base64url of the first 16 bytes of
    HMAC-SHA256(secret, f"{bot_id}:{chat_id}") + ``}`` (base64url has no braces)."""
    return KeyMaker(secret, bot_id, prefix).for_chat(chat_id)


@dataclass(frozen=True, slots=True)
class KeyMaker:
    """``conversation_key`` with the secret, bot id and prefix bound."""

    secret: bytes = field(repr=False)  # keep the secret out of logs and tracebacks
    bot_id: int
    prefix: str = DEFAULT_PREFIX
    #: HMAC with the secret already keyed in: each key copies it (half the hashing work).
    _keyed: hmac.HMAC = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("the key secret must not be empty")
        object.__setattr__(self, "_keyed", hmac.new(self.secret, digestmod=hashlib.sha256))

    def for_chat(self, chat_id: int) -> str:
        """The chat's key (see ``conversation_key``)."""
        mac = self._keyed.copy()
        mac.update(f"{self.bot_id}:{chat_id}".encode("ascii"))
        token = base64.urlsafe_b64encode(mac.digest()[:_DIGEST_BYTES]).rstrip(b"=")
        return f"{self.prefix}{{{token.decode('ascii')}}}"
