"""Notices end to end: the real bot and PTB against the fake Bot API, a real Redis, and a
test build of the rules in which the answer changes."""

from __future__ import annotations

from datetime import date

import pytest
import redis

from bot.adapters.telegram.app import build_application
from bot.adapters.telegram.notices import NoticeSender
from bot.compose import Parts, build_notices
from bot.conversation.notice import NOTICE_DAYS
from bot.i18n import Renderer
from bot.notices import Courier, NoticeReport, Subscription, current_finding, notify
from bot.notices.store import NOTICE_PREFIX
from fakebotapi import FakeUser
from rules import Certainty, Finding, Outcome
from tests.adapters.telegram_harness import KEY_SECRET, WORKER_PATH, RunningBot, press, running_bot
from tests.privacy import mentions

pytestmark = pytest.mark.redis

TODAY = date(2026, 12, 2)
LANGS = ("ru", "tg", "uz", "uz_Cyrl", "az")
_PATH = WORKER_PATH
_SUBSCRIBED = "Done. If the answer changes, you will get one message here. To stop, send /forget."
_CHANGED = "The answer to your question has changed."
_STOPPED = "You will get no more messages about changes. Everything kept for them has been deleted."


def changed_rules(subscription: Subscription, day: date) -> Finding:
    """A test build of the rules: this case is now unclear, at low certainty."""
    return current_finding(subscription, day).model_copy(
        update={
            "outcome": Outcome.UNCLEAR,
            "requirement_met": None,
            "certainty": Certainty.LOW,
            "rules_version": "test-build-2",
        }
    )


async def _subscribe(bot: RunningBot, lang: str, user_id: int, renderer: Renderer) -> FakeUser:
    user = bot.api.user(user_id=user_id, language_code=lang.split("_", maxsplit=1)[0])
    await user.send_command("/start", payload=f"{lang}-self")
    await user.wait_reply()
    for suffix in _PATH:
        await press(user, suffix)
    await press(user, "nav:notify")
    replies = await press(user, "nav:notify_yes")
    assert replies[-1].text == renderer.gettext(_SUBSCRIBED, lang)
    return user


async def _notice_run(parts: Parts) -> NoticeReport:
    """`decree-bot notify` with the test build of the rules."""
    application = build_application(parts)
    async with application:
        notices = build_notices(parts, key_secret=KEY_SECRET, bot_id=application.bot.id)
        courier = Courier(notices.seal, NoticeSender(application.bot, parts.renderer))
        return await notify(notices.store, courier, today=TODAY, finding_for=changed_rules)


def _notice_keys(redis_url: str) -> dict[bytes, int]:
    with redis.Redis.from_url(redis_url) as client:
        return {k: int(client.ttl(k)) for k in client.scan_iter(match=NOTICE_PREFIX + "*")}


async def test_subscribe_notify_once_show_and_stop_in_every_language(
    redis_url: str, renderer: Renderer
) -> None:
    async with running_bot("polling", redis_url) as bot:
        users = [await _subscribe(bot, lang, 7100 + i, renderer) for i, lang in enumerate(LANGS)]
        keys = _notice_keys(redis_url)
        assert len(keys) == len(LANGS)
        assert all(NOTICE_DAYS * 86400 - 60 < ttl <= NOTICE_DAYS * 86400 for ttl in keys.values())
        with redis.Redis.from_url(redis_url) as client:
            for key in client.scan_iter():
                # Strings hold conversations and subscriptions; hashes, the counts per org.
                kind = client.type(key)
                value = client.get(key) if kind == b"string" else repr(client.hgetall(key)).encode()
                for user in users:
                    assert not mentions(key + value, user.id), "no raw chat id in Redis"

        before = {user.id: len(user.chat.messages) for user in users}
        report = await _notice_run(bot.parts)
        assert report.sent == len(LANGS)
        for lang, user in zip(LANGS, users, strict=True):
            await bot.api.wait_for(lambda u=user: len(u.chat.messages) > before[u.id], 5)
            notice = user.chat.messages[-1]
            assert notice.text.startswith(renderer.gettext(_CHANGED, lang)), (lang, notice.text)
            unclear = renderer.gettext(
                "🟡 It is not clear whether the decree applies to you.", lang
            )
            assert unclear in notice.text

        again = await _notice_run(bot.parts)
        assert (again.sent, sum(again.changes.values())) == (0, 0), "a second run sends nothing"

        first = users[0]
        notice = first.chat.messages[-1]
        shown = await press(first, "ntc:show")
        assert shown[-1].text.startswith(
            renderer.gettext(
                "🔴 The decree applies to you. You have none of the listed documents.",
                "ru",
            )
        )
        await first.press(lambda b: b.callback_data == "ntc:stop", message=notice)
        stopped = await first.wait_reply()
        assert stopped[-1].text == renderer.gettext(_STOPPED, "ru")
        assert len(_notice_keys(redis_url)) == len(LANGS) - 1

        await users[1].send_command("/forget")
        await users[1].wait_reply()
        assert len(_notice_keys(redis_url)) == len(LANGS) - 2


async def test_forgotten_before_the_run_gets_no_notice_and_a_blocked_chat_is_deleted(
    redis_url: str, renderer: Renderer
) -> None:
    async with running_bot("polling", redis_url) as bot:
        forgetful = await _subscribe(bot, "tg", 7201, renderer)
        blocking = await _subscribe(bot, "az", 7202, renderer)
        await forgetful.send_command("/forget")
        await forgetful.wait_reply()
        messages = len(forgetful.chat.messages)
        # Blocked while no update about it reached the bot: the notice itself finds out.
        bot.api.block_user(blocking.id)
        report = await _notice_run(bot.parts)
        assert (report.sent, report.gone) == (0, 1)
        assert _notice_keys(redis_url) == {}, "a blocked chat loses its subscription"
        assert len(forgetful.chat.messages) == messages
