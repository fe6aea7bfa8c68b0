"""Fuzzing the Telegram adapter: random and mutated updates through the real handler path.

Each example parses updates the way the webhook does (`Update.de_json`) and hands them to
`Application.process_update` of the application `build_application` + `prepare` build, talking
to the fake Bot API on 127.0.0.1 and to the private Redis. Nothing may raise, our error handler
must never run, no Redis key but the update's own chat's may be written, and every message the
bot sends goes to the update's own chat, in that person's language (or the default).

`DECREEBOT_FUZZ_EXAMPLES` sets the number of examples (default 60; e.g. 5000 for a long run).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import pytest
import redis
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from telegram import Update

from bot.adapters.telegram.app import PACE_PREFIX, build_application, prepare
from bot.adapters.telegram.endpoints import AnyApplication, parse_update
from bot.adapters.telegram.fleet import fleet_keys
from bot.adapters.telegram.throttle import Throttle
from bot.compose import Parts, build_parts
from bot.config import Settings
from bot.conversation import LANGUAGES, Start, decode, negotiate
from bot.conversation.screens import CHOOSE_LANGUAGE
from bot.i18n import load_catalogs
from bot.service import DEFAULT_LANGUAGE, Delivery
from bot.stats import FIELDS, STATS_PREFIX
from bot.storage import KeyMaker
from fakebotapi import FakeBotApi, FakeChat
from tests.adapters.telegram_harness import running_bot
from tests.redis_server import RedisServer

_COUNTS = re.compile(rf"{STATS_PREFIX}(none|unknown):\d{{4}}-W\d{{2}}")

pytestmark = pytest.mark.redis

T = TypeVar("T")
KEY_SECRET = b"fuzz-key-secret-fuzz-key-secret-fuzz"
EXAMPLES = int(os.environ.get("DECREEBOT_FUZZ_EXAMPLES", "60"))
BOT_USERNAME = "decree_test_bot"
_SENT = frozenset({"sendMessage", "editMessageText"})
_TO_A_CHAT = _SENT | {"deleteMessages", "deleteMessage", "editMessageReplyMarkup"}


# --- what counts as a message in a language ----------------------------------------------


def _fragments(text: str) -> list[str]:
    """Literal pieces of a catalog string: between placeholders and line breaks."""
    pieces = re.split(r"\{[^}]*\}|\n", text)
    return [p.strip(" •:.,") for p in pieces if len(p.strip(" •:.,")) >= 12]


def _language_marks() -> dict[str, list[str]]:
    """For each language, pieces of its catalog that no other language's catalog contains."""
    catalogs = load_catalogs()
    ru = catalogs["ru"]
    ids = [k for k in ru._catalog if isinstance(k, str) and k]  # type: ignore[attr-defined]
    texts: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        catalog = catalogs[lang]
        texts[lang] = [catalog.gettext(i) for i in ids]
    whole = {lang: "\n".join(ts) for lang, ts in texts.items()}
    marks: dict[str, list[str]] = {}
    for lang, ts in texts.items():
        others = [whole[o] for o in LANGUAGES if o != lang]
        found = {f for t in ts for f in _fragments(t)}
        marks[lang] = sorted(f for f in found if not any(f in other for other in others))
    return marks


MARKS = _language_marks()


def languages_of(text: str) -> set[str]:
    """The languages whose own catalog pieces appear in `text`."""
    return {lang for lang, marks in MARKS.items() if any(m in text for m in marks)}


# --- the bot, started once for the module ------------------------------------------------


@dataclass
class FuzzBot:
    """The fake API, the real application and its parts, on one event loop of our own."""

    loop: asyncio.AbstractEventLoop
    api: FakeBotApi
    app: AnyApplication
    parts: Parts
    redis_url: str
    keys: KeyMaker = field(init=False)
    pace: KeyMaker = field(init=False)
    errors: list[logging.LogRecord] = field(default_factory=list)
    next_chat: int = 710_000_000

    def __post_init__(self) -> None:
        self.keys = KeyMaker(KEY_SECRET, int(self.api.bot_user["id"]))
        self.pace = KeyMaker(KEY_SECRET, int(self.api.bot_user["id"]), prefix=PACE_PREFIX)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)


class _Errors(logging.Handler):
    def __init__(self, sink: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record)


async def _start(redis_url: str) -> tuple[FakeBotApi, AnyApplication, Parts]:
    api = await FakeBotApi(bot_username=BOT_USERNAME).start()
    settings_ = Settings(
        token=SecretStr(api.token),
        api_base_url=api.bot_base_url,
        redis_url=redis_url,
        key_secret=SecretStr(KEY_SECRET.decode()),
        _env_file=None,
    )
    parts = build_parts(settings_)
    app = build_application(parts)
    await app.initialize()
    await prepare(app, parts, key_secret=KEY_SECRET)
    throttle = app.bot.rate_limiter
    assert isinstance(throttle, Throttle)
    # Pacing is Telegram's business, not this test's: keep it, with no waiting.
    throttle.waits.chat_interval = 0.001
    return api, app, parts


async def _stop(api: FakeBotApi, app: AnyApplication, parts: Parts) -> None:
    await app.shutdown()
    await parts.store.close()
    if parts.counting is not None:
        await parts.counting.close()  # the counts added up, written; no flush left pending
    await api.stop()


@pytest.fixture(scope="module")
def fuzz_bot(redis_server: RedisServer) -> Iterator[FuzzBot]:
    """One fake API and one real application for every example of the module."""
    redis_server.start()
    loop = asyncio.new_event_loop()
    api, app, parts = loop.run_until_complete(_start(redis_server.url))
    bot = FuzzBot(loop, api, app, parts, redis_server.url)
    catcher = _Errors(bot.errors)
    watched = [logging.getLogger("bot"), logging.getLogger("telegram.ext")]
    for logger in watched:
        logger.addHandler(catcher)
    try:
        yield bot
    finally:
        for logger in watched:
            logger.removeHandler(catcher)
        loop.run_until_complete(_stop(api, app, parts))
        loop.close()


# --- updates ------------------------------------------------------------------------------

JSONish = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
TEXTS = st.one_of(
    st.text(max_size=60),
    st.text(min_size=290, max_size=320),
    st.sampled_from(
        [
            "/start",
            "/start tg-relative-ngo1",
            "/start uz_Cyrl--x",
            "/start " + "z" * 70,
            "/start@decree_test_bot ru",
            "/start@other_bot",
            "/back",
            "/restart",
            "/language",
            "/forget",
            "/help",
            "/privacy",
            "/decree",
            "/nonsense",
            "/",
            "Армения",
            "armenia",
            "🇹🇯",
            "no",
        ]
    ),
    st.just("x" * 5000),
)
CALLBACK_DATA = st.one_of(
    st.text(max_size=70),
    st.from_regex(r"[a-z][0-9]{1,3}:[a-z_]{2,12}=[a-zA-Z_0-9]{1,20}", fullmatch=True),
    st.sampled_from(
        [
            "lang=ru",
            "lang=uz_Cyrl",
            "lang=de",
            "mode=self",
            "mode=ngo",
            "nav:result",
            "nav:why",
            "nav:share",
            "nav:review",
            "nav:back",
            "nav:restart",
            "c1:type=citizenship",
            "e2:citizenship",
            "s1:sex=male",
            "s1:sex=" + "m" * 80,
        ]
    ),
)
HINTS = st.one_of(st.none(), st.sampled_from(["ru", "tg", "uz", "az", "en", "de", "ru-RU", ""]))


@st.composite
def updates(draw: st.DrawFn, chat_id: int, message_id: int) -> dict[str, Any]:
    """One update: a real kind of Telegram update, then perhaps mutated."""
    sender: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": "Fuzz"}
    hint = draw(HINTS)
    if hint is not None:
        sender["language_code"] = hint
    private = {"id": chat_id, "type": "private", "first_name": "Fuzz"}
    group = {"id": -(10**12) - chat_id, "type": draw(st.sampled_from(["group", "supergroup"]))}
    chat = draw(st.sampled_from([private, private, private, group]))
    message = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": chat,
        "from": sender,
        "text": draw(TEXTS),
    }
    kind = draw(st.sampled_from(["message", "message", "callback_query", "other"]))
    body: dict[str, Any]
    if kind == "message":
        body = {"message": message}
    elif kind == "callback_query":
        shown = {**message, "from": {"id": 1, "is_bot": True, "first_name": "Bot"}}
        query = {"id": str(draw(st.integers(1, 10**6))), "from": sender, "chat_instance": "1"}
        query["data"] = draw(CALLBACK_DATA)
        if draw(st.booleans()):
            query["message"] = shown
        body = {"callback_query": query}
    else:
        other = draw(
            st.sampled_from(
                ["edited_message", "channel_post", "my_chat_member", "inline_query", "poll"]
            )
        )
        if other == "my_chat_member":
            status = {"user": {"id": 1, "is_bot": True, "first_name": "Bot"}, "status": "kicked"}
            member = {**status, "status": "member"}
            body = {
                other: {
                    "chat": chat,
                    "from": sender,
                    "date": 0,
                    "old_chat_member": member,
                    "new_chat_member": {**status, "until_date": 0},
                }
            }
        elif other == "inline_query":
            body = {other: {"id": "1", "from": sender, "query": "x", "offset": ""}}
        elif other == "poll":
            body = {other: {"id": "1", "question": "q", "options": [], "total_voter_count": 0}}
        else:
            body = {other: message}
    update: dict[str, Any] = {"update_id": draw(st.integers(1, 2**31)), **body}
    return draw(_mutated(update))


@st.composite
def _mutated(draw: st.DrawFn, update: dict[str, Any]) -> dict[str, Any]:
    """Often unchanged; else a field dropped, retyped or added, somewhere in the update."""
    for _ in range(draw(st.integers(0, 2))):
        path = _paths(update)
        where = draw(st.sampled_from(path))
        target: Any = update
        for key in where[:-1]:
            target = target[key]
        last = where[-1]
        action = draw(st.sampled_from(["drop", "retype", "add"]))
        if action == "drop" and where != ("update_id",):
            target.pop(last, None)
        elif action == "retype":
            target[last] = draw(JSONish)
        else:
            target[draw(st.text(min_size=1, max_size=8))] = draw(JSONish)
    return update


def _paths(value: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for key, inner in value.items():
        found.append((*prefix, key))
        if isinstance(inner, dict):
            found += _paths(inner, (*prefix, key))
    return found


# --- one example --------------------------------------------------------------------------


def _state_lang(bot: FuzzBot, chat_id: int) -> str | None:
    with redis.Redis.from_url(bot.redis_url) as client:
        raw = client.get(bot.keys.for_chat(chat_id))
    if raw is None:
        return None
    state, _ = decode(raw.split(b"|", 2)[2])
    return state.lang if state else None


def _parse(bot: FuzzBot, data: dict[str, Any]) -> Update | None:
    """What the webhook makes of a body: an Update, or None for what it drops."""
    return parse_update(json.dumps(data), bot.app.bot)


def _hint_of(data: dict[str, Any]) -> str | None:
    for kind in ("message", "callback_query"):
        body = data.get(kind)
        if isinstance(body, dict) and isinstance(body.get("from"), dict):
            code = body["from"].get("language_code")
            return code if isinstance(code, str) else None
    return None


async def _example(bot: FuzzBot, seed_lang: str | None, sent: list[dict[str, Any]]) -> set[int]:
    chats: set[int] = set()
    for data in sent:
        update = _parse(bot, data)
        event("dropped as malformed" if update is None else "processed")
        if update is None:
            continue
        chat = update.effective_chat
        if chat is not None and isinstance(chat.id, int):
            chats.add(chat.id)
            bot.api.chats.setdefault(chat.id, FakeChat(chat.id, "private", {"first_name": "F"}))
        await bot.app.process_update(update)
    del seed_lang
    return chats


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_updates_never_break_the_bot(fuzz_bot: FuzzBot, data: st.DataObject) -> None:
    """Random and mutated updates: no exception, no error handler, no stray key or message,
    and every reply in the person's language (or the default)."""
    bot = fuzz_bot
    bot.next_chat += 10
    chat_id = bot.next_chat
    with redis.Redis.from_url(bot.redis_url) as client:
        client.flushall()
    seed_lang = data.draw(st.sampled_from([None, *LANGUAGES]), label="stored language")
    if seed_lang is not None:
        payload = f"{seed_lang}-{data.draw(st.sampled_from(['self', 'relative', 'ngo']))}"
        bot.run(
            bot.parts.service.handle(
                bot.keys.for_chat(chat_id), Start(payload=payload), Delivery(), today=date.today()
            )
        )
    count = data.draw(st.integers(1, 3), label="updates")
    sent = [data.draw(updates(chat_id, 10 + i), label=f"update {i}") for i in range(count)]
    mark = len(bot.api.calls)
    errors_before = len(bot.errors)
    chats = bot.run(_example(bot, seed_lang, sent))
    calls = bot.api.calls[mark:]

    assert bot.errors[errors_before:] == [], [r.getMessage() for r in bot.errors[errors_before:]]

    allowed_keys = {bot.keys.for_chat(c) for c in chats | {chat_id}}
    allowed_keys |= {bot.pace.for_chat(c) for c in chats | {chat_id}}
    allowed_keys |= set(fleet_keys(bot.pace))  # the fleet's: no chat in them
    with redis.Redis.from_url(bot.redis_url) as client:
        written = {k.decode() for k in client.scan_iter()}
        assert all(client.pttl(k) != -1 for k in written)  # -1: no TTL (-2: just expired)
        # Counts per organisation and week (no organisations are listed here): no chat's.
        counts = {k for k in written if _COUNTS.fullmatch(k)}
        assert all({f.decode() for f in client.hkeys(k)} <= set(FIELDS) for k in counts)
        written -= counts
    assert written <= allowed_keys, written - allowed_keys

    after = _state_lang(bot, chat_id)
    spoken = {seed_lang, after, DEFAULT_LANGUAGE}
    spoken |= {negotiate(_hint_of(d)) for d in sent}
    spoken |= {lang for d in sent for lang in LANGUAGES if f"{lang}-" in json.dumps(d)}
    spoken |= {lang for d in sent for lang in LANGUAGES if f"lang={lang}" in json.dumps(d)}
    event(f"messages sent or edited: {min(sum(c.method in _SENT for c in calls), 3)}")
    for call in calls:
        if call.method in _TO_A_CHAT:
            assert call.chat_id in chats, (call.method, call.chat_id, chats)
        if call.method not in _SENT or not call.ok:
            continue
        text = str(call.params.get("text", ""))
        found = languages_of(text.replace(CHOOSE_LANGUAGE, ""))
        if text.strip() == CHOOSE_LANGUAGE:
            continue
        assert found, f"no catalog text in {text[:200]!r}"
        assert found <= spoken, (found, spoken, text[:200])


# --- a flood from one person ---------------------------------------------------------------


async def test_a_flood_from_one_person_does_not_hold_up_others(redis_url: str) -> None:
    """One person sends 150 messages at once; another person's /start is answered at once.

    The flooder's extra updates are dropped unread while four of theirs are in flight, so
    they never fill the updates processed at once, and their messages wait for their own
    chat's pace only.
    """
    async with running_bot("polling", redis_url) as bot:
        flooder = bot.api.user(user_id=8101, language_code="ru")
        other = bot.api.user(user_id=8102, language_code="tg")
        await flooder.send_command("/start", payload="ru-self")
        await flooder.wait_reply()
        for i in range(150):
            await flooder.send_text(f"text {i}")
        started = time.monotonic()
        await other.send_command("/start", payload="tg-self")
        await other.wait_reply(timeout=5, settle=0.0)
        answered = [c for c in bot.api.calls_for("sendMessage", chat_id=other.id) if c.ok]
        assert answered[0].t_monotonic - started < 1.5
        await asyncio.sleep(1.0)
        to_flooder = bot.api.calls_for("sendMessage", chat_id=flooder.id)
        assert len(to_flooder) <= 12  # the /start, then a few "use the buttons"
