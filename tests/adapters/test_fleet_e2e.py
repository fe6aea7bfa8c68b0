"""The fleet's pacing seen from a chat, with the real bot, a real Redis and the fake Bot API:
/forget does not reset a chat's pace; a press is answered at once, with a toast when its
reply will wait long; and an edit that would change nothing is not sent (issue 18)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from datetime import UTC, datetime

import pytest
from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ChatType

from bot.adapters.telegram import incoming
from bot.adapters.telegram.fleet import PACE_PREFIX, RedisFleet
from bot.adapters.telegram.outgoing import Outgoing
from bot.adapters.telegram.replying import unchanged
from bot.storage import KeyMaker
from tests.adapters.telegram_harness import KEY_SECRET, press, running_bot
from tests.redis_server import redis_client_for

pytestmark = pytest.mark.redis

BUSY_RU = "Сейчас бота спрашивают очень многие. Ваш ответ скоро придёт."


def _sends(bot_api: object, chat_id: int) -> list[float]:
    calls = bot_api.calls_for("sendMessage", chat_id=chat_id)  # type: ignore[attr-defined]
    return sorted(c.t_monotonic for c in calls if c.ok)


async def test_forget_does_not_reset_a_chats_pace(redis_url: str) -> None:
    """/start, /forget and /start again at once: every message to the chat still goes at
    least a second after the one before (the pace key survives /forget)."""
    async with running_bot("webhook", redis_url) as bot:
        user = bot.api.user(user_id=7_777_801, language_code="ru")
        await user.send_command("/start", payload="ru-self")
        await user.wait_reply()
        await user.send_command("/forget")
        await user.send_command("/start", payload="ru-self")
        await bot.api.wait_for(lambda: len(_sends(bot.api, user.id)) >= 3, 10)
        await asyncio.sleep(0.3)
        sends = _sends(bot.api, user.id)
    assert len(sends) >= 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(sends)]
    assert min(gaps) >= 1.0, gaps


async def test_a_press_is_answered_at_once_with_a_toast_when_its_reply_waits_long(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(incoming, "TOAST_AFTER", 1.0)
    async with running_bot("webhook", redis_url) as bot:
        user = bot.api.user(user_id=7_777_802, language_code="ru")
        await user.send_command("/start", payload="ru-self")
        await user.wait_reply()
        bot_id = int(bot.api.bot_user["id"])
        fleet = RedisFleet(
            redis_client_for(redis_url), KeyMaker(KEY_SECRET, bot_id, prefix=PACE_PREFIX)
        )
        await fleet.hold_fleet(3.0)  # another worker was told 429, retry after 3 s
        other = bot.api.user(user_id=7_777_803, language_code="ru")
        # Its reply waits for the flood wait (its webhook is answered before: `early`).
        learning = asyncio.create_task(other.send_command("/start", payload="ru-self"))
        await asyncio.sleep(0.5)  # this worker has learnt of the flood wait by now
        await user.press(lambda b: (b.callback_data or "").endswith("sex=male"))
        await bot.api.wait_for(lambda: bool(bot.api.calls_for("answerCallbackQuery")), 2)
        answered = bot.api.calls_for("answerCallbackQuery")[-1]
        assert answered.params.get("text") == BUSY_RU
        await user.wait_reply(timeout=6)
        edit = bot.api.calls_for("editMessageText", chat_id=user.id)[-1]
        assert edit.t_monotonic - answered.t_monotonic >= 1.5  # the reply waited; the answer not
        await learning
    quiet = [c for c in bot.api.calls_for("answerCallbackQuery") if "text" not in c.params]
    assert not quiet


@pytest.mark.parametrize("early", [True, False])
async def test_a_webhook_update_whose_reply_waits_long_is_answered_before_the_reply(
    redis_url: str, early: bool
) -> None:
    """When the operator allows it, Telegram's connection is not held while a reply waits its
    turn (`early`): an update whose reply would wait over two seconds is answered once its
    conversation is written, and the reply still goes when the wait ends. Without a wait, or
    by default, the answer comes after the reply, so that Telegram would deliver the update
    again if the process died before replying."""
    async with running_bot("webhook", redis_url, webhook_early_answers=early) as bot:
        plain = bot.api.user(user_id=7_777_805, language_code="ru")
        await plain.send_command("/start", payload="ru-self")  # returns once answered
        answered_plain = time.monotonic()
        bot_id = int(bot.api.bot_user["id"])
        fleet = RedisFleet(
            redis_client_for(redis_url), KeyMaker(KEY_SECRET, bot_id, prefix=PACE_PREFIX)
        )
        await fleet.hold_fleet(3.0)  # another worker was told 429, retry after 3 s
        await asyncio.sleep(0.3)  # heard of at once (flood news)
        waiting = bot.api.user(user_id=7_777_806, language_code="ru")
        await waiting.send_command("/start", payload="ru-self")
        answered_waiting = time.monotonic()
        await waiting.wait_reply(timeout=6)
        await fleet.close()
    assert _sends(bot.api, plain.id)[0] <= answered_plain  # the reply, then the answer
    waited = _sends(bot.api, waiting.id)[0] - answered_waiting
    if early:
        assert waited >= 2.0  # the answer, then the wait
    else:
        assert waited <= 0  # the wait, the reply, then the answer


async def test_a_press_without_a_wait_is_answered_without_a_toast(redis_url: str) -> None:
    async with running_bot("webhook", redis_url) as bot:
        user = bot.api.user(user_id=7_777_804, language_code="ru")
        await user.send_command("/start", payload="ru-self")
        await user.wait_reply()
        await press(user, "sex=male")
    answers = bot.api.calls_for("answerCallbackQuery")
    assert answers
    assert all("text" not in c.params for c in answers)


def test_an_edit_that_would_change_nothing_is_not_sent() -> None:
    """The pressed message already reads as the reply (the same text and keyboard, as PTB
    parsed it from Telegram): `_deliver` and `_replay` skip that edit."""
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Да", callback_data="s2:x=1")]])
    markup = json.dumps(keyboard.to_dict())
    chat = Chat(7, ChatType.PRIVATE)
    pressed = Message(5, datetime.now(UTC), chat, text="Вопрос", reply_markup=keyboard)
    same = Outgoing("Вопрос", markup, edit=True)
    assert unchanged(pressed, same)
    assert not unchanged(pressed, Outgoing("Другой", markup, edit=True))
    other = json.dumps(
        InlineKeyboardMarkup([[InlineKeyboardButton("Нет", callback_data="s2:x=0")]]).to_dict()
    )
    assert not unchanged(pressed, Outgoing("Вопрос", other, edit=True))
    assert not unchanged(pressed, Outgoing("Вопрос", None, edit=True))
    bare = Message(6, datetime.now(UTC), chat, text="Вопрос")
    assert unchanged(bare, Outgoing("Вопрос", None, edit=True))
