"""End to end: the real PTB application, our handlers and Redis, against a fake Bot API.

The fake server runs on localhost and plays the user over HTTP, in polling and webhook mode.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.adapters.telegram.fleet import PACE_PREFIX, fleet_keys
from bot.conversation import LANGUAGES
from bot.i18n import Renderer
from bot.logs import configure_logging
from bot.storage import KeyMaker
from fakebotapi import FakeBotApi
from tests.adapters.telegram_harness import (
    KEY_SECRET,
    WORKER_PATH,
    converse,
    press,
    running_bot,
)
from tests.redis_server import RedisServer, all_keys_with_ttl

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[2]

_PATH = WORKER_PATH
_NOT_MET = "🔴 The decree applies to you. You have none of the listed documents."


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_full_conversation_in_every_language(
    mode: str, redis_url: str, renderer: Renderer
) -> None:
    """Six people, one per language, reach their result by buttons at the same time."""
    async with running_bot(mode, redis_url) as bot:
        texts = await asyncio.gather(
            *(converse(bot, lang, 5000 + i) for i, lang in enumerate(LANGUAGES))
        )
        for lang, text in zip(LANGUAGES, texts, strict=True):
            assert text.startswith(renderer.gettext(_NOT_MET, lang)), (lang, text[:80])
        assert bot.api.unanswered_callbacks() == []
        assert bot.api.rate_violations().total == 0
        # Menus and descriptions were set for each language at start-up.
        codes = {c.params.get("language_code") for c in bot.api.calls_for("setMyCommands")}
        assert {None, "ru", "tg", "uz", "az", "en"} <= codes
        assert len(bot.api.calls_for("setMyShortDescription")) >= 6


async def test_father_who_does_not_know_the_documents(redis_url: str, renderer: Renderer) -> None:
    """In Telegram, "I don't know" for the documents gives one line per case: one held, none."""
    async with running_bot("webhook", redis_url) as bot:
        user = bot.api.user(user_id=5900, language_code="uz")
        await user.send_command("/start", payload="uz-relative")
        await user.wait_reply()
        for suffix in ["sex=male", "age_band=18_to_65", "citizenship=UZ"]:
            await press(user, suffix)
        for suffix in ["application=citizenship", "grounds=family", "documents=unknown"]:
            await press(user, suffix)
        await press(user, "nav:result")
        last = user.chat.last_bot_message
        assert last is not None
        for line in (
            "🟢 His document already meets the requirement.",
            "🔴 He has none of the listed documents.",
        ):
            assert renderer.gettext(line, "uz") in last.text, last.text[:200]
        assert bot.api.unanswered_callbacks() == []


async def test_deep_link_preselects_language_and_mode(redis_url: str, renderer: Renderer) -> None:
    """A t.me link with tg-relative opens the bot in Tajik, asking about a relative."""
    async with running_bot("polling", redis_url) as bot:
        user = bot.api.user(user_id=6001, language_code="ru")
        await user.send_command("/start", payload="tg-relative-ngo1")
        replies = await user.wait_reply()
        text = replies[-1].text
        assert renderer.gettext("Is your relative a man or a woman?", "tg") in text


async def test_stale_button_gets_the_current_question(redis_url: str, renderer: Renderer) -> None:
    """A press on an old message is answered with the current question, not applied."""
    async with running_bot("polling", redis_url) as bot:
        user = bot.api.user(user_id=6002, language_code="az")
        await user.send_command("/start", payload="az-self")
        first = (await user.wait_reply())[-1]
        old_data = next(
            b.callback_data
            for b in first.buttons
            if b.callback_data and "sex=male" in b.callback_data
        )
        await press(user, "sex=male")
        await press(user, "age_band=18_to_65")
        await user.send_command("/restart")
        await user.wait_reply()
        await press(user, "sex=female")  # now the answer is "female" at a newer turn
        await user.send_command("/restart")
        await user.wait_reply()
        await user.press_data(str(old_data), first.message_id)
        replies = await user.wait_reply()
        assert renderer.gettext("This question has changed. Here is the current one.", "az") in (
            replies[-1].text
        )


async def test_forget_deletes_state_and_chat(redis_url: str, renderer: Renderer) -> None:
    """/forget removes the stored conversation and both sides of the chat; the chat's pace
    ends by itself a second later."""
    async with running_bot("polling", redis_url) as bot:
        user = bot.api.user(user_id=6003, language_code="uz")
        await user.send_command("/start", payload="uz-self")
        await user.wait_reply()
        await press(user, "sex=male")
        await user.send_text("salom")
        await user.wait_reply()
        assert all_keys_with_ttl(redis_url)
        await user.send_command("/forget")
        await user.wait_reply()
        # Only the chat's pace (a moment, no answers) and the fleet's budget are left, to end
        # by themselves within about a second: /forget must not reset the pace (issue 18).
        bot_id = int(bot.api.bot_user["id"])
        paces = KeyMaker(KEY_SECRET, bot_id, prefix=PACE_PREFIX)
        left = all_keys_with_ttl(redis_url)
        assert set(left) <= {paces.for_chat(user.id), *fleet_keys(paces)}
        assert all(0 < ttl <= 2000 for ttl in left.values())
        await asyncio.sleep(2.1)
        assert all_keys_with_ttl(redis_url) == {}
        visible = user.chat.messages
        assert len(visible) == 1
        assert visible[0].from_bot
        assert visible[0].text == renderer.gettext(
            "Everything about this conversation has been deleted. To start again, send /start.",
            "uz",
        )


async def test_wrong_webhook_secret_is_rejected(redis_url: str) -> None:
    """A POST without the right secret gets 403 and changes nothing."""
    async with running_bot("webhook", redis_url) as bot:
        user = bot.api.user(user_id=6004)
        update = {
            "update_id": 777,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 6004, "type": "private"},
                "from": user.json,
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        assert await bot.api.deliver_raw(update, secret="wrong") == 403
        assert await bot.api.deliver_raw(update, secret=None) == 403
        await asyncio.sleep(0.2)
        assert bot.api.calls_for("sendMessage") == []
        assert all_keys_with_ttl(redis_url) == {}


async def test_redis_stopped_and_restarted_mid_conversation(renderer: Renderer) -> None:
    """Redis goes away: a short apology; it comes back: the bot carries on by itself."""
    server = RedisServer()
    server.start()
    try:
        async with running_bot("polling", server.url) as bot:
            user = bot.api.user(user_id=6005, language_code="tg")
            await user.send_command("/start", payload="tg-self")
            await user.wait_reply()
            await press(user, "sex=male")
            server.stop()
            await user.press(lambda b: (b.callback_data or "").endswith("age_band=18_to_65"))
            apology = (await user.wait_reply(timeout=10))[-1].text
            assert apology == renderer.gettext(
                "Sorry, the bot has a technical problem. Please try again in a few minutes.", "tg"
            )
            server.restart()
            await user.send_command("/start", payload="tg-self")
            back = (await user.wait_reply(timeout=10))[-1].text
            assert renderer.gettext("Are you a man or a woman?", "tg") in back
    finally:
        server.stop()


async def test_429_retry_after_is_honoured(redis_url: str) -> None:
    """Telegram's 429 with retry_after: the message is sent again, not sooner than asked."""
    async with running_bot("polling", redis_url) as bot:
        bot.api.fail_next("sendMessage", status=429, retry_after=1)
        user = bot.api.user(user_id=6006, language_code="ru")
        await user.send_command("/start", payload="ru-self")
        await user.wait_reply(timeout=10)
        sends = bot.api.calls_for("sendMessage")
        rejected = [c for c in sends if c.rejected]
        accepted = [c for c in sends if c.ok]
        assert rejected
        assert accepted
        assert accepted[0].t_monotonic - rejected[0].t_monotonic >= 1.0


async def test_blocked_user_state_is_deleted(redis_url: str) -> None:
    """A person who blocks the bot has their conversation deleted."""
    async with running_bot("polling", redis_url) as bot:
        user = bot.api.user(user_id=6007, language_code="en")
        await user.send_command("/start", payload="en-self")
        await user.wait_reply()
        assert all_keys_with_ttl(redis_url)
        await user.block()
        await bot.api.wait_for(lambda: not all_keys_with_ttl(redis_url), 5)


async def test_groups_get_only_decree_and_start(redis_url: str, renderer: Renderer) -> None:
    """In a group the bot answers /decree and /start (with a private-chat button), nothing else."""
    async with running_bot("polling", redis_url) as bot:
        group = bot.api.group(-100123)
        user = bot.api.user(user_id=6008, language_code="ru")
        await user.send_text("мне 30 лет, я из Таджикистана", chat=group)
        await user.send_command("/start", chat=group)
        replies = await user.wait_reply(chat=group)
        text = replies[-1].text
        assert text == renderer.gettext(
            "The bot asks its questions only in a private chat, so that no one else sees the"
            " answers. Press the button to continue there.",
            "ru",
        )
        assert replies[-1].buttons[0].url == "https://t.me/decree_test_bot?start=ru"
        await user.send_command("/decree", chat=group)
        decree = (await user.wait_reply(chat=group))[-1].text
        assert "821" in decree
        sends = bot.api.calls_for("sendMessage", chat_id=-100123)
        assert len(sends) == 2
        assert sends[1].t_monotonic - sends[0].t_monotonic >= 3.0  # 20 a minute in a group
        # Nothing about the people: only the group's pace and the fleet's, for seconds.
        paces = KeyMaker(KEY_SECRET, int(bot.api.bot_user["id"]), prefix=PACE_PREFIX)
        left = all_keys_with_ttl(redis_url)
        assert set(left) <= {paces.for_chat(-100123), *fleet_keys(paces)}
        assert all(0 < ttl <= 3100 for ttl in left.values())  # the group's, the count's


async def test_other_input_is_answered_politely(redis_url: str, renderer: Renderer) -> None:
    """Stickers, photos, long text and unknown commands get a short answer; nothing crashes."""
    async with running_bot("polling", redis_url) as bot:
        user = bot.api.user(user_id=6009, language_code="az")
        await user.send_command("/start", payload="az-self")
        await user.wait_reply()
        await user.send_sticker()
        sticker = (await user.wait_reply())[-1].text
        assert sticker == renderer.gettext("The bot can read only text and button presses.", "az")
        await user.send_text("x" * 5000)
        assert (await user.wait_reply())[-1].text == renderer.gettext(
            "This message is too long. Please answer with the buttons.", "az"
        )
        await user.send_command("/nonsense")
        assert (await user.wait_reply())[-1].text == renderer.gettext(
            "Unknown command. /help shows the commands.", "az"
        )
        messages_before = len(bot.api.calls_for("sendMessage"))
        await user.press_data("c9:citizenship=XX" + "x" * 80, user.chat.last_bot_message.message_id)  # type: ignore[union-attr]
        await user.edit_last_text("edited")
        await asyncio.sleep(0.3)
        assert len(bot.api.calls_for("sendMessage")) == messages_before
        assert bot.api.unanswered_callbacks() == []


async def test_logs_carry_no_personal_data(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG level, a whole run logs no id, name, username, answer or typed text."""
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    async with running_bot("webhook", redis_url) as bot:
        user = bot.api.user(
            user_id=48151623, language_code="ru", first_name="Бурхон", username="burxon_tj"
        )
        await user.send_command("/start", payload="ru-self")
        await user.wait_reply()
        for suffix in _PATH[:2]:
            await press(user, suffix)
        await user.press(lambda b: (b.callback_data or "").endswith("type=citizenship"))
        await user.wait_reply()
        await user.send_text("Арманистон")
        await user.wait_reply()
        for suffix in ("application=citizenship", "grounds=family", "documents=none", "nav:result"):
            await press(user, suffix)
        await user.send_command("/forget")
        await user.wait_reply()
    text = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "handled step=" in text  # the flow is logged
    for secret in (
        "48151623",
        "Бурхон",
        "burxon_tj",
        "Арманистон",
        "citizenship=",
        "application=",
        "grounds=family",
        "documents=none",
        "AM",
    ):
        assert secret not in text, secret


async def test_polling_command_works_against_a_local_bot_api(
    redis_url: str, renderer: Renderer
) -> None:
    """`decree-bot polling` with DECREEBOT_API_BASE_URL on localhost serves a user, unchanged."""
    async with FakeBotApi() as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DECREEBOT_")}
        env |= {
            "DECREEBOT_TOKEN": api.token,
            "DECREEBOT_API_BASE_URL": api.bot_base_url,
            "DECREEBOT_REDIS_URL": redis_url,
            "DECREEBOT_KEY_SECRET": "subprocess-secret-subprocess-secret",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "polling",
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await api.wait_for(lambda: bool(api.calls_for("getUpdates")), 20)
            user = api.user(user_id=6010, language_code="uz")
            await user.send_command("/start")
            text = (await user.wait_reply(timeout=10))[-1].text
            assert renderer.gettext("Who are you checking for?", "uz") in text
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()[-2000:]
        assert b"Traceback" not in err
