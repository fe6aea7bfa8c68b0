"""Conversation keys: keyed hashes of (bot id, chat id) that never reveal the ids."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import re

import pytest

from bot.storage import KeyMaker, conversation_key

SECRET = b"decree-bot test secret"
BOT = 7123456789
KEY_SHAPE = re.compile(r"dcb:c:\{[A-Za-z0-9_-]{22}\}")


def expected_key(secret: bytes, bot_id: int, chat_id: int, prefix: str = "dcb:c:") -> str:
    digest = hmac.digest(secret, f"{bot_id}:{chat_id}".encode(), "sha256")[:16]
    return prefix + "{" + base64.urlsafe_b64encode(digest).decode().rstrip("=") + "}"


CASES = [
    (SECRET, BOT, 123456789),  # a private chat
    (SECRET, BOT, -1001234567890),  # a supergroup
    (SECRET, BOT, 0),
    (SECRET, 1, 23),
    (SECRET, 12, 3),  # the ':' separator keeps this apart from (1, 23)
    (b"\x00" * 32, BOT, 123456789),
    (hashlib.sha256(b"another").digest(), 5555555555, 987654321),
]


@pytest.mark.parametrize(("secret", "bot_id", "chat_id"), CASES)
def test_key_is_prefixed_truncated_hmac(secret: bytes, bot_id: int, chat_id: int) -> None:
    key = conversation_key(secret, bot_id, chat_id)
    assert key == expected_key(secret, bot_id, chat_id)
    assert KEY_SHAPE.fullmatch(key)


def test_pinned_values() -> None:
    # Changing these orphans every stored conversation: do it only on purpose.
    assert conversation_key(SECRET, BOT, 123456789) == "dcb:c:{j5qqIIfi0Mrv7YmE2EDYJQ}"
    assert conversation_key(SECRET, BOT, -1001234567890) == "dcb:c:{pPw__W9C8ojjICbPzCTytg}"


def test_all_cases_are_distinct() -> None:
    keys = {conversation_key(*case) for case in CASES}
    assert len(keys) == len(CASES)


@pytest.mark.parametrize("chat_id", [123456789, -1001234567890, 987654321012])
def test_raw_ids_never_appear(chat_id: int) -> None:
    key = conversation_key(SECRET, BOT, chat_id)
    for raw in (str(BOT), str(chat_id), str(abs(chat_id))):
        assert raw not in key


def test_different_secrets_give_different_keys() -> None:
    assert conversation_key(b"secret-a", BOT, 42) != conversation_key(b"secret-b", BOT, 42)


def test_different_bots_give_different_keys() -> None:
    assert conversation_key(SECRET, 1, 42) != conversation_key(SECRET, 2, 42)


def test_custom_prefix() -> None:
    key = conversation_key(SECRET, BOT, 42, prefix="staging:c:")
    assert key == expected_key(SECRET, BOT, 42, prefix="staging:c:")
    assert key.removeprefix("staging:c:") == conversation_key(SECRET, BOT, 42)[len("dcb:c:") :]


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        conversation_key(b"", BOT, 42)
    with pytest.raises(ValueError, match="secret"):
        KeyMaker(b"", BOT)


def test_key_maker() -> None:
    maker = KeyMaker(SECRET, BOT)
    assert maker.for_chat(123456789) == "dcb:c:{j5qqIIfi0Mrv7YmE2EDYJQ}"
    for chat_id in (-1001234567890, -5, 0, 1, 2**40):  # the keyed copy changes nothing
        assert maker.for_chat(chat_id) == expected_key(SECRET, BOT, chat_id)
    assert KeyMaker(SECRET, BOT, "x:").for_chat(7) == conversation_key(SECRET, BOT, 7, prefix="x:")
    assert SECRET.decode() not in repr(maker)
    with pytest.raises(dataclasses.FrozenInstanceError):
        maker.bot_id = 1  # type: ignore[misc]


def hash_tag(key: str) -> str:
    """What Redis Cluster hashes: the part between the first `{` and the next `}`."""
    start = key.index("{")
    return key[start + 1 : key.index("}", start + 1)]


def test_every_key_of_a_chat_shares_one_hash_tag() -> None:
    """Conversation and pace keys of one chat land in one Redis Cluster slot; other chats'
    keys do not share it."""
    conversation = KeyMaker(SECRET, BOT).for_chat(42)
    pace = KeyMaker(SECRET, BOT, "dcb:p:").for_chat(42)
    assert conversation != pace
    assert hash_tag(conversation) == hash_tag(pace)
    assert len(hash_tag(conversation)) == 22
    assert hash_tag(KeyMaker(SECRET, BOT).for_chat(43)) != hash_tag(conversation)
