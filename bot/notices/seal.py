"""`ChatSeal`: the chat id of a subscription, encrypted at rest with AES-GCM.

A notice must reach the chat, so the id cannot be a one-way hash like the conversation's key.
It is sealed with a key derived from the operator's secret (HKDF-SHA256), and bound to the
subscription's storage key as associated data: a sealed id copied under another key does not
open.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["ChatSeal", "SealBrokenError"]

_NONCE_BYTES = 12
_INFO = b"decree-bot notices: chat id v1"


class SealBrokenError(ValueError):
    """A sealed chat id that does not open with this key (wrong secret, or tampered)."""


class ChatSeal:
    """Seals and opens chat ids; the key never leaves the object."""

    __slots__ = ("_aead",)

    def __init__(self, secret: bytes) -> None:
        if not secret:  # its strength is the settings' to check (DECREEBOT_KEY_SECRET)
            msg = "the notice key must not be empty"
            raise ValueError(msg)
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "ChatSeal(<key>)"

    def seal(self, chat_id: int, *, bound_to: str) -> str:
        """The chat id, encrypted under a fresh nonce, as unpadded base64url."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, str(chat_id).encode("ascii"), bound_to.encode())
        return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")

    def open(self, sealed: str, *, bound_to: str) -> int:
        """The chat id inside `sealed`; `SealBrokenError` if it was not sealed for `bound_to`."""
        try:
            raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], bound_to.encode())
            return int(plain.decode("ascii"))
        except Exception as exc:  # InvalidTag, bad base64, bad digits: all mean "does not open"
            raise SealBrokenError("the sealed chat id does not open") from exc
