"""PRIVACY.md and SECURITY.md name a test for every claim; these tests check that they exist,
and back the claims no other test covers (what is stored, for how long, what memory keeps)."""

from __future__ import annotations

import ast
import asyncio
import json
import logging
import re
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.adapters.telegram.app import PACE_PREFIX, build_application, prepare
from bot.adapters.telegram.endpoints import parse_update
from bot.adapters.telegram.fleet import fleet_keys
from bot.adapters.telegram.incoming import TelegramHandlers
from bot.adapters.telegram.run import serve_webhook
from bot.adapters.telegram.sending import SendingBot
from bot.adapters.telegram.throttle import Throttle
from bot.adapters.telegram.webhook import MAX_BODY, WebhookServer
from bot.compose import build_parts, build_store, key_secret
from bot.config import Settings, StartupError
from bot.conversation import (
    Answer,
    Start,
    State,
    Text,
    TypeCountry,
    decode,
    encode,
    transition,
)
from bot.conversation.notice import NOTICE_DAYS
from bot.conversation.questions import QUESTIONS
from bot.conversation.screens import INFO
from bot.logs import configure_logging
from bot.notices import Subscription, Told
from bot.service import ChatService, Delivery, _Cache
from bot.storage import KeyMaker, MemoryStore, StoreUnavailable
from bot.storage.base import RECENT_LIMIT, Snapshot, decode_record, encode_record
from fakebotapi import FakeBotApi
from tests.adapters.telegram_harness import KEY_SECRET, WEBHOOK_SECRET, running_bot
from tests.conftest import TODAY, make_renderer
from tests.privacy import mentions
from tests.redis_server import all_keys_with_ttl

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "PRIVACY.md", ROOT / "SECURITY.md"]
_REFERENCE = re.compile(r"(tests/[\w/]+\.py)::([\w:]+)")

#: The stored state, as PRIVACY.md lists it: storage name -> field.
DOCUMENTED_FIELDS = {
    "v": "schema_version",
    "l": "lang",
    "m": "mode",
    "o": "org",
    "s": "step",
    "f": "asking",
    "a": "answers",
    "h": "path",
    "t": "turn",
    "i": "first_message",
}


# --- the documents name tests that exist ---------------------------------------------------


def _references(doc: Path) -> list[tuple[str, str]]:
    return _REFERENCE.findall(doc.read_text(encoding="utf-8"))


def _defines(path: Path, name: str) -> bool:
    """Whether the file defines test `name` (`test_x`, or `Class::test_x`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    *classes, function = name.split("::")
    scope: list[ast.stmt] = tree.body
    for class_name in classes:
        found = [n for n in scope if isinstance(n, ast.ClassDef) and n.name == class_name]
        if not found:
            return False
        scope = found[0].body
    return any(
        isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == function for n in scope
    )


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_cited_test_exists(doc: Path) -> None:
    """Every `path::name` in the document is a test function defined in that file."""
    references = _references(doc)
    assert len(references) >= 10, f"{doc.name} cites too few tests"
    missing = [
        f"{path}::{name}"
        for path, name in references
        if not (ROOT / path).is_file() or not _defines(ROOT / path, name)
    ]
    assert missing == []


def test_every_statement_in_privacy_md_cites_a_test() -> None:
    """Each paragraph, list item and table row of PRIVACY.md names at least one test."""
    uncited = []
    for line in (ROOT / "PRIVACY.md").read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text or text.startswith(("#", ">", "|---", "| Storage", "| Subscription field")):
            continue  # headings, advice to the operator, the table's header
        if not _REFERENCE.search(text):
            uncited.append(text[:80])
    assert uncited == []


# --- what is stored --------------------------------------------------------------------------


def test_state_has_exactly_the_documented_fields() -> None:
    """The conversation state has the fields PRIVACY.md lists, under those storage names."""
    fields = {info.alias: name for name, info in State.model_fields.items()}
    assert fields == DOCUMENTED_FIELDS
    table = (ROOT / "PRIVACY.md").read_text(encoding="utf-8")
    for alias, name in DOCUMENTED_FIELDS.items():
        assert f"| `{alias}` | `{name}` |" in table, alias


def test_subscription_has_exactly_the_documented_fields() -> None:
    """A notice subscription has the fields PRIVACY.md lists, and ends after 180 days."""
    documented = {"chat", "answers", "lang", "mode", "told", "sending", "expires"}
    assert set(Subscription.model_fields) == documented
    assert set(Told.model_fields) == {"outcome", "requirement_met", "certainty", "rules_version"}
    table = (ROOT / "PRIVACY.md").read_text(encoding="utf-8")
    for name in documented - {"lang", "mode"}:
        assert f"| `{name}` |" in table, name
    assert "| `lang`, `mode` |" in table
    assert Subscription.expiry(date(2026, 12, 2)) == date(2027, 5, 31)
    assert NOTICE_DAYS == 180


def test_stored_state_uses_only_the_one_letter_names() -> None:
    """The stored form is compact JSON: one-letter names, facts asked as their one-letter
    codes, unset fields left out."""
    state = State.fresh(
        lang="tg", mode="relative", answers={"sex": "male"}, path=("sex", "age"), asking="grounds"
    )
    stored = json.loads(encode(state))
    assert set(stored) <= set(DOCUMENTED_FIELDS)
    assert stored == {
        "v": 2,
        "l": "tg",
        "m": "relative",
        "f": "g",
        "a": {"sex": "male"},
        "h": "sa",
    }


def test_record_header_is_version_and_recent_update_ids() -> None:
    """A record is `version|update ids in base 36|state`; at most four ids are kept."""
    assert encode_record(7, [1, 36, 1295], b'{"v":1}') == b'7|1,10,zz|{"v":1}'
    assert decode_record(b"7|1,10|{}") == Snapshot(7, b"{}", (1, 36))
    assert RECENT_LIMIT == 4


def test_the_bot_asks_only_for_the_facts_of_the_decree() -> None:
    """The questions are sex, age band, citizenship, application, grounds and documents."""
    assert set(QUESTIONS) == {"sex", "age", "citizenship", "application", "grounds", "documents"}
    fields = {q.field for q in QUESTIONS.values()}
    assert fields == {"sex", "age_band", "citizenship", "application", "grounds", "documents"}


def test_the_app_language_is_kept_only_as_one_of_the_bots_languages() -> None:
    """The app's language code becomes the conversation's language only if the bot speaks it."""
    for hint, kept in [("ru-RU", "ru"), ("uz", "uz"), ("de", None), ("kk", None), (None, None)]:
        state = transition(None, Start(hint=hint), today=TODAY).state
        assert state is not None
        assert state.lang == kept


def test_a_typed_country_is_kept_as_its_code_only() -> None:
    """A typed country name is matched to its code; only the code is stored."""
    state = transition(None, Start(payload="tg-self"), today=TODAY).state
    for field, value in [("sex", "male"), ("age_band", "18_to_65")]:
        assert state is not None
        state = transition(state, Answer(state.turn, field, value), today=TODAY).state
    assert state is not None
    state = transition(state, TypeCountry(state.turn), today=TODAY).state
    assert state is not None
    state = transition(state, Text("Арманистон"), today=TODAY).state
    assert state is not None
    assert state.answers["citizenship"] == "AM"
    assert "Арман".encode() not in encode(state)


# --- where, for how long, who can link it ---------------------------------------------------


def test_session_ttl_defaults_to_30_minutes_within_bounds() -> None:
    """DECREEBOT_SESSION_TTL: 1800 s unless set, at least 600 s, at most 7 days."""
    assert Settings(_env_file=None).session_ttl == 1800
    for wrong in (599, 7 * 24 * 3600 + 1):
        with pytest.raises(ValidationError):
            Settings(session_ttl=wrong, _env_file=None)


def test_without_redis_conversations_stay_in_this_process() -> None:
    """Without DECREEBOT_REDIS_URL the store is the process's memory."""
    store = build_store(Settings(_env_file=None), warn=False)
    assert isinstance(store, MemoryStore)


def test_redis_needs_a_key_secret() -> None:
    """With Redis, DECREEBOT_KEY_SECRET is required; without, each start makes a random one."""
    with_redis = Settings(redis_url="redis://127.0.0.1:1/0", _env_file=None)
    with pytest.raises(SystemExit):
        key_secret(with_redis)
    alone = Settings(_env_file=None)
    first, second = key_secret(alone), key_secret(alone)
    assert len(first) == 32
    assert first != second


def test_privacy_command_states_the_configured_lifetime() -> None:
    """/privacy tells the person how many minutes the answers are kept."""
    text = make_renderer().text(INFO["privacy"], "en")
    assert "30 minutes after the last message" in text


@pytest.mark.redis
async def test_pace_keys_are_pseudonymous_and_short_lived(redis_url: str) -> None:
    """Besides the conversation, a pace key (keyed hash, about a second) exists per chat, and
    the fleet's keys (the bot's id, no chat) for about a second."""
    async with running_bot("webhook", redis_url) as bot:
        user = bot.api.user(user_id=7_777_001, language_code="ru")
        await user.send_command("/start", payload="ru-self")
        await user.wait_reply(settle=0)
        keys = all_keys_with_ttl(redis_url)
    bot_id = int(bot.api.bot_user["id"])
    conversation = KeyMaker(KEY_SECRET, bot_id).for_chat(user.id)
    paces = KeyMaker(KEY_SECRET, bot_id, prefix=PACE_PREFIX)
    pace = paces.for_chat(user.id)
    fleet = set(fleet_keys(paces))
    assert set(keys) <= {conversation, pace} | fleet
    assert conversation in keys
    assert 0 < keys.get(pace, 1) <= 1100
    assert all(0 < keys[key] <= 2000 for key in fleet & set(keys))
    assert not any(mentions(key, user.id) for key in keys)


# --- /forget ---------------------------------------------------------------------------------


@pytest.mark.redis
async def test_forget_deletes_the_state_even_if_telegram_keeps_the_messages(
    redis_url: str,
) -> None:
    """If Telegram refuses to delete the messages, the stored answers are deleted anyway."""
    async with running_bot("polling", redis_url) as bot:
        user = bot.api.user(user_id=7_777_002, language_code="en")
        await user.send_command("/start", payload="en-self")
        await user.wait_reply()
        bot.api.fail_next("deleteMessages", status=400, times=10)
        await user.send_command("/forget")
        replies = await user.wait_reply()
        assert "has been deleted" in (replies[-1].text or "")
        await bot.api.wait_for(lambda: not all_keys_with_ttl(redis_url), 3)


# --- what memory keeps -----------------------------------------------------------------------


def test_service_cache_is_bounded_and_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-process cache keeps at most 10,000 snapshots, none longer than the TTL."""
    now = [1000.0]
    monkeypatch.setattr("bot.service.time.monotonic", lambda: now[0])
    cache = _Cache(ttl_seconds=60)
    snapshot = Snapshot(1, b"{}", ())
    for i in range(10_050):
        cache.put(f"k{i}", snapshot)
    assert len(cache._entries) == 10_000
    assert cache.get("k0") is None
    assert cache.get("k10049") == snapshot
    now[0] += 61
    assert cache.get("k10049") is None


async def test_process_memory_keeps_no_chat_id_after_an_update() -> None:
    """After an update, PTB keeps no chat or user id, and the pace forgets the chat soon."""
    async with FakeBotApi() as api:
        settings = Settings(
            token=SecretStr(api.token),
            api_base_url=api.bot_base_url,
            _env_file=None,
        )
        parts = build_parts(settings, warn_memory=False)
        app = build_application(parts)
        await app.initialize()
        await prepare(app, parts, key_secret=b"memory-test")
        throttle = app.bot.rate_limiter
        assert isinstance(throttle, Throttle)
        throttle.waits.chat_interval = 0.05
        user = api.user(user_id=7_777_003, language_code="uz")
        update = await user.send_command("/start", payload="uz-self")  # queued, not delivered
        await app.process_update(await _parsed(app, update))
        assert api.calls_for("sendMessage", chat_id=user.id)
        assert app._chat_ids_to_be_updated_in_persistence == set()
        assert app._user_ids_to_be_updated_in_persistence == set()
        assert not app.chat_data
        assert not app.user_data
        await asyncio.sleep(0.1)
        assert throttle.waits.last_sent == {}
        await app.shutdown()


async def _parsed(app: Any, update: dict[str, Any]) -> Any:
    return parse_update(json.dumps(update), app.bot)


# --- what is logged --------------------------------------------------------------------------


def test_library_loggers_are_capped() -> None:
    """Libraries that would log whole requests or updates are capped, whatever our level."""
    configure_logging("DEBUG")
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING
    assert logging.getLogger("telegram").level == logging.INFO
    assert logging.getLogger("tornado").level == logging.WARNING


async def test_error_logs_name_the_class_only(caplog: pytest.LogCaptureFixture) -> None:
    """A handler error is logged as its class, never its message (it may quote a person)."""
    handlers = TelegramHandlers(
        bot=SendingBot("1:token"),
        service=build_parts(Settings(_env_file=None), warn_memory=False).service,
        renderer=make_renderer(),
        keys=KeyMaker(b"s", 1),
        bot_username="b",
    )

    class Context:
        error = ValueError("Арманистон 48151623")

    caplog.set_level(logging.INFO)
    await handlers.on_error(object(), Context())  # type: ignore[arg-type]
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "handler error: ValueError" in text
    assert "48151623" not in text
    assert "Арман" not in text


# --- security claims -------------------------------------------------------------------------


@pytest.mark.redis
async def test_webhook_refuses_a_body_over_the_limit(redis_url: str) -> None:
    """A POST bigger than 256 KB is not read: no answer from the bot, nothing stored."""
    async with running_bot("webhook", redis_url) as bot:
        body = json.dumps({"update_id": 1, "message": {"text": "x" * MAX_BODY}}).encode()
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        url = f"http://127.0.0.1:{bot.listen_port}/telegram"
        async with httpx.AsyncClient(trust_env=False) as client:
            try:
                status = (await client.post(url, content=body, headers=headers)).status_code
            except httpx.HTTPError:
                status = None
        assert status is None or status >= 400
        assert bot.api.calls_for("sendMessage") == []
        assert all_keys_with_ttl(redis_url) == {}


@pytest.mark.redis
async def test_webhook_drops_what_is_not_an_update(redis_url: str) -> None:
    """Bodies that are not updates get 200 (so Telegram does not resend them) and nothing else."""
    async with running_bot("webhook", redis_url) as bot:
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        url = f"http://127.0.0.1:{bot.listen_port}/telegram"
        bodies = [
            b"not json",
            b"[1, 2]",
            b"null",
            b'{"update_id": "1", "message": {}}',
            json.dumps(
                {
                    "update_id": 5,
                    "message": {"message_id": 1, "date": 0, "text": "/start",
                                "chat": {"id": [1], "type": "private"}},
                }
            ).encode(),
        ]  # fmt: skip
        async with httpx.AsyncClient(trust_env=False) as client:
            for body in bodies:
                assert (await client.post(url, content=body, headers=headers)).status_code == 200
        await asyncio.sleep(0.2)
        assert bot.api.calls_for("sendMessage") == []
        assert all_keys_with_ttl(redis_url) == {}


def test_webhook_needs_a_secret() -> None:
    """No webhook server without a secret, and no webhook mode without one configured."""
    with pytest.raises(ValueError, match="SECRET"):
        WebhookServer(object(), secret="", path="/telegram", health=_healthy)  # type: ignore[arg-type]
    settings = Settings(
        token=SecretStr("1:x"),
        webhook_url="http://127.0.0.1:1/telegram",
        _env_file=None,
    )
    with pytest.raises(StartupError, match="DECREEBOT_WEBHOOK_SECRET"):
        asyncio.run(serve_webhook(build_parts(settings, warn_memory=False), key_secret=b"k",
                                  stop=asyncio.Event()))  # fmt: skip


async def _healthy() -> bool:
    return True


async def _fake_send(outcomes: list[Exception | None]) -> Any:
    calls = []

    async def callback(*_args: Any, **_kwargs: Any) -> bool:
        calls.append(time.monotonic())
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return True

    return callback, calls


class _FleetDown:
    """A fleet whose Redis cannot be reached."""

    async def book(self, chat_id: int, interval: float) -> Any:
        raise StoreUnavailable

    bulk = hold_fleet = hold_chat = book

    def hear_floods(self, on_flood: Any) -> None:
        """Nothing is heard: Redis is down."""

    async def close(self) -> None:
        """Nothing to stop."""


async def test_throttle_spaces_each_chat_and_caps_the_total_without_redis() -> None:
    """One chat: a second (and a bit) between messages. No cap overall while the fleet's
    Redis answers; when it cannot be reached, this process's own: 3 per second here."""
    throttle = Throttle(fallback_per_second=3)
    callback, calls = await _fake_send([None] * 10)

    async def send(chat: int) -> Any:
        return await throttle.process_request(
            callback, (), {}, "sendMessage", {"chat_id": chat}, None
        )

    await asyncio.gather(send(1), send(1))
    assert calls[1] - calls[0] >= 1.0
    calls.clear()
    started = time.monotonic()
    await asyncio.gather(*(send(10 + i) for i in range(4)))
    assert calls[3] - started < 0.5  # no overall cap of ours
    calls.clear()
    throttle.share(_FleetDown())
    started = time.monotonic()
    await asyncio.gather(*(send(20 + i) for i in range(4)))
    assert calls[3] - started >= 0.95  # the fourth waited for the window
    assert calls[2] - started < 0.5


async def test_throttle_retries_server_errors_but_not_timeouts_or_bad_requests() -> None:
    """A 5xx is sent again; a timeout (it may have arrived) or a 400 is not."""
    throttle = Throttle()
    callback, calls = await _fake_send([NetworkError("Bad Gateway"), None])
    assert await throttle.process_request(callback, (), {}, "editMessageText", {}, None)
    assert len(calls) == 2
    for error in (TimedOut(), BadRequest("chat not found")):
        callback, calls = await _fake_send([error, None])
        with pytest.raises(type(error)):
            await throttle.process_request(callback, (), {}, "editMessageText", {}, None)
        assert len(calls) == 1


async def test_an_update_delivered_again_shows_the_current_screen() -> None:
    """The latest update delivered again answers with the current screen (its first reply may
    have died with a process); an older one, or one not asked to replay, stays silent."""
    store = MemoryStore()
    service = ChatService(store=store, ttl_seconds=600)
    await service.handle("k", Start(payload="en-self"), Delivery(update_id=1), today=TODAY)
    state, _ = decode((await store.get("k")).data)
    assert state is not None
    press = Answer(state.turn, "sex", "male")
    first = await service.handle("k", press, Delivery(update_id=2, replay=True), today=TODAY)
    again = await service.handle("k", press, Delivery(update_id=2, replay=True), today=TODAY)
    assert again.duplicate
    assert again.replay
    assert [r.buttons for r in again.replies] == [r.buttons for r in first.replies]
    assert again.replies[0].edit
    quiet = await service.handle("k", press, Delivery(update_id=2), today=TODAY)
    assert quiet.replies == ()
    await service.handle(
        "k", Answer(state.turn + 1, "age_band", "over_65"), Delivery(update_id=3), today=TODAY
    )
    older = await service.handle("k", press, Delivery(update_id=2, replay=True), today=TODAY)
    assert older.replies == ()


async def test_a_process_with_an_old_copy_answers_from_the_store() -> None:
    """Two processes share a conversation: one with an outdated copy in its cache still
    answers the current question, not "this question has changed"."""
    store = MemoryStore()
    first, second = (ChatService(store=store, ttl_seconds=600) for _ in range(2))
    await first.handle("k", Start(payload="en-self"), Delivery(update_id=1), today=TODAY)
    state, _ = decode((await store.get("k")).data)
    assert state is not None
    await second.handle("k", Answer(state.turn, "sex", "male"), Delivery(update_id=2), today=TODAY)
    state, _ = decode((await store.get("k")).data)
    assert state is not None
    handled = await first.handle(
        "k", Answer(state.turn, "age_band", "18_to_65"), Delivery(update_id=3), today=TODAY
    )
    assert handled.step == "q"
    final, _ = decode((await store.get("k")).data)
    assert final is not None
    assert final.answers == {"sex": "male", "age_band": "18_to_65"}


def test_an_id_counts_only_as_a_whole_number() -> None:
    # A random store version once held 7100 inside 1221171007: not a leak.
    assert not mentions(b"1221171007|1njcih|{}", 7100)
    assert mentions(b"dcb:c:7100", 7100)
    assert mentions("chat=7100,", 7100)
