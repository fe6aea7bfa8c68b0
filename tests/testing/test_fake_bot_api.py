"""The fake Bot API against the real python-telegram-bot: nothing is mocked.

A tiny PTB application (/start with an inline keyboard, a callback handler that answers and
edits) runs in polling and in webhook mode against `FakeBotApi` on 127.0.0.1. Error mapping
is checked through PTB's own exceptions; raw HTTP checks pin the Bot API response shapes.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from fakebotapi import (
    ButtonNotFoundError,
    Call,
    FakeBotApi,
    count_rate_violations,
    free_port,
)

TOKEN = "123456:TEST-decree-token"
USER_ID = 4242
App = Application[Any, Any, Any, Any, Any, Any]

KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Yes", callback_data="yes"),
            InlineKeyboardButton("No", callback_data="no"),
        ],
        [InlineKeyboardButton("Decree text", url="https://example.org/821")],
    ]
)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN, bot_username="decree_test_bot") as fake:
        yield fake


# -- the tiny bot under test -------------------------------------------------------------------


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    payload = f", {' '.join(context.args)}" if context.args else ""
    await update.effective_message.reply_text(
        f"<b>Welcome</b>{payload}! Choose:", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
    )


async def on_button(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"got {query.data}")
    await query.edit_message_text(f"You chose {query.data}")


async def on_text(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    kind = "edited" if update.edited_message else "text"
    await message.reply_text(f"{kind}: {message.text}")


async def on_media(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    kind = "photo" if message.photo else "sticker" if message.sticker else "voice"
    await message.reply_text(f"got a {kind}")


async def on_clean(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete both sides of the conversation, as a privacy-minded bot would."""
    message = update.effective_message
    assert message is not None
    ids = list(range(1, message.message_id + 1))
    await context.bot.delete_messages(message.chat_id, ids)
    await context.bot.send_message(message.chat_id, "Cleaned.")


def build_app(api: FakeBotApi, errors: list[BaseException] | None = None) -> App:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api.bot_base_url)
        .base_file_url(api.bot_base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CommandHandler("clean", on_clean))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(filters.PHOTO | filters.Sticker.ALL | filters.VOICE, on_media))

    async def collect(_update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if errors is not None and context.error is not None:
            errors.append(context.error)

    app.add_error_handler(collect)
    return app


@asynccontextmanager
async def polling(app: App) -> AsyncIterator[App]:
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


@asynccontextmanager
async def webhook(app: App, port: int) -> AsyncIterator[App]:
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="hook",
        webhook_url=f"http://127.0.0.1:{port}/hook",
        secret_token="s3cret",
    )
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


@asynccontextmanager
async def plain_bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.bot_base_url, base_file_url=api.bot_base_file_url) as bot:
        yield bot


# -- raw HTTP ----------------------------------------------------------------------------------


async def test_raw_http_shapes_and_param_decoding(api: FakeBotApi) -> None:
    assert api.base_url.startswith("http://127.0.0.1:")
    api.user(USER_ID)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    base = f"{api.bot_base_url}{TOKEN}"  # PTB's form: base_url + token + "/" + method
    async with httpx.AsyncClient(trust_env=False) as http:
        me = (await http.post(f"{base}/getMe")).json()
        assert me["ok"] is True
        assert me["result"]["username"] == "decree_test_bot"
        assert me["result"]["id"] == 123456
        missing = await http.post(f"{base}/sendTelepathy")
        assert missing.status_code == 404
        assert missing.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
        assert (await http.post(f"{api.bot_base_url}999:WRONG/getMe")).status_code == 401
        # Form-encoded, JSON-encoded objects, like PTB; method names are case-insensitive.
        form = {"chat_id": str(USER_ID), "text": "123", "reply_markup": json.dumps(markup)}
        sent = (await http.post(f"{base}/SENDMESSAGE", data=form)).json()
        assert sent["result"]["text"] == "123"
        assert sent["result"]["reply_markup"] == markup
        unknown_chat = await http.post(f"{base}/sendMessage", json={"chat_id": 7, "text": "x"})
        assert unknown_chat.json()["description"] == "Bad Request: chat not found"
    call = api.calls_for("sendMessage", chat_id=USER_ID)[0]
    assert call.params == {"chat_id": USER_ID, "text": "123", "reply_markup": markup}
    assert call.ok
    assert api.chat(USER_ID).last_bot_message is not None


async def test_get_updates_long_poll_offset_limit_and_filters(api: FakeBotApi) -> None:
    user = api.user(USER_ID)
    base = f"{api.bot_base_url}{TOKEN}"
    async with httpx.AsyncClient(trust_env=False) as http:

        async def get_updates(**params: Any) -> Any:
            return (await http.post(f"{base}/getUpdates", json=params)).json()

        assert (await get_updates(timeout=0))["result"] == []
        started = time.monotonic()
        poll = asyncio.create_task(get_updates(timeout=3))
        await asyncio.sleep(0.1)
        first = await user.send_text("hi")
        got = (await poll)["result"]
        assert got == [first]
        assert time.monotonic() - started < 1.5  # answered on arrival, not at the timeout
        # Unconfirmed updates come again; a higher offset confirms them.
        assert (await get_updates(offset=0))["result"] == [first]
        assert (await get_updates(offset=first["update_id"] + 1))["result"] == []
        assert api.pending_updates == []
        updates = [await user.send_text(str(n)) for n in range(3)]
        assert (await get_updates(limit=2))["result"] == updates[:2]
        assert (await get_updates(offset=-1))["result"] == updates[2:]
        # allowed_updates filters out kinds the bot did not ask for.
        await user.send_text("ignored")
        assert (await get_updates(allowed_updates=["callback_query"]))["result"] == []
        assert api.filtered_updates[-1]["message"]["text"] == "ignored"
        # A second poller ends the first one with 409, like Telegram.
        older = asyncio.create_task(get_updates(timeout=3))
        await asyncio.sleep(0.05)
        await get_updates(timeout=0)
        assert (await older)["error_code"] == 409
        # Raw updates without an update_id are handed out once, as-is. (allowed_updates
        # persists like on Telegram; an empty list restores the default kinds.)
        assert await api.deliver_raw({"message": "garbage"}) is None
        assert (await get_updates(allowed_updates=[]))["result"][-1] == {"message": "garbage"}
        assert {"message": "garbage"} not in (await get_updates())["result"]


# -- polling mode with the real PTB application --------------------------------------------------


async def test_polling_start_press_answer_and_edit(api: FakeBotApi) -> None:
    user = api.user(USER_ID, first_name="Firuz", language_code="tg")
    async with polling(build_app(api)):
        update = await user.send_command("/start", payload="tg")
        entity = update["message"]["entities"][0]
        assert entity == {"type": "bot_command", "offset": 0, "length": 6}
        [reply] = await user.wait_reply()
        assert reply.text == "Welcome, tg! Choose:"
        assert reply.entities == [{"type": "bold", "offset": 0, "length": 7}]
        assert [b.text for b in reply.buttons] == ["Yes", "No", "Decree text"]
        assert user.chat.visible_text().splitlines() == [
            "user: /start tg",
            "bot: Welcome, tg! Choose:",
            "    [Yes] [No]",
            "    [Decree text]",
        ]
        sent = api.calls_for("sendMessage", chat_id=USER_ID)[0]
        assert sent.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"

        with pytest.raises(ButtonNotFoundError, match=r"\[Yes\].*\n.*\[No\]"):
            await user.press("Maybe")
        with pytest.raises(ValueError, match="sends no callback query"):
            await user.press("Decree text")

        query = await user.press("Yes")
        assert query["callback_query"]["message"]["reply_markup"] == KEYBOARD.to_dict()
        [edited] = await user.wait_reply()
        assert edited.message_id == reply.message_id
        assert edited.text == "You chose yes"
        assert edited.buttons == []  # an edit without reply_markup drops the keyboard
        [answer] = api.calls_for("answerCallbackQuery", chat_id=USER_ID)
        assert answer.params["text"] == "got yes"
        assert api.unanswered_callbacks() == []
        assert user.chat.visible_text().endswith("bot: You chose yes")
        # Pressing a stale button by forged data still reaches the bot.
        await user.press_data("no", reply.message_id)
        assert (await user.wait_reply())[0].text == "You chose no"


async def test_polling_text_media_edit_and_delete(api: FakeBotApi) -> None:
    user = api.user(USER_ID)
    async with polling(build_app(api)):
        await user.send_text("привет")
        assert [m.text for m in await user.wait_reply()] == ["text: привет"]
        await user.edit_last_text("салом")
        assert [m.text for m in await user.wait_reply()] == ["edited: салом"]
        await user.send_photo(caption="my card")
        assert [m.text for m in await user.wait_reply()] == ["got a photo"]
        await user.send_sticker()
        assert [m.text for m in await user.wait_reply()] == ["got a sticker"]
        await user.send_voice()
        assert [m.text for m in await user.wait_reply()] == ["got a voice"]
        assert "user: <photo> my card" in user.chat.visible_text()
        await user.send_command("clean")
        [cleaned] = await user.wait_reply()
        assert [m.text for m in user.chat.messages] == ["Cleaned."]
        assert cleaned.text == "Cleaned."
        assert any(m.deleted and not m.from_bot for m in user.chat.all_messages)
        # The simulated user types faster than one message a second, so the one-reply-each
        # bot exceeds Telegram's per-chat pace too: the accounting notices.
        report = api.rate_violations()
        assert 0 < report.per_chat <= 5
        assert set(report.chats) == {USER_ID}
        assert report.overall == 0


async def test_group_chat_commands_address_the_bot(api: FakeBotApi) -> None:
    alice, bob = api.user(1, first_name="Alice"), api.user(2, first_name="Bob")
    group = api.group(-1001234567890, title="Migrants")
    async with polling(build_app(api)):
        update = await alice.send_command("/start", chat=group)
        assert update["message"]["text"] == "/start@decree_test_bot"
        assert update["message"]["chat"]["type"] == "supergroup"
        [reply] = await alice.wait_reply(chat=group)
        assert reply.chat_id == group.id
        assert reply.reply_to is not None  # PTB quotes in groups
        await bob.press("No", chat=group)
        [edited] = await bob.wait_reply(chat=group)
        assert edited.text == "You chose no"
        assert alice.chat.messages == []  # nothing leaked into private chats


async def test_retry_after_surfaces_as_ptb_retry_after(
    api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as a timedelta
    errors: list[BaseException] = []
    app = build_app(api, errors)

    async def retrying_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        # PTB does not retry by itself; a bot that wants to must wait retry_after.
        assert update.effective_chat is not None
        try:
            await context.bot.send_message(update.effective_chat.id, "first try")
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, dtm.timedelta) else wait
            await asyncio.sleep(seconds)
            await context.bot.send_message(update.effective_chat.id, "after waiting")

    app.add_handler(CommandHandler("retry", retrying_start))
    user = api.user(USER_ID)
    async with polling(app):
        api.fail_next("sendMessage", status=429, retry_after=1, chat_id=USER_ID)
        await user.send_command("/start")
        await api.wait_for(lambda: errors)
        [error] = errors
        assert isinstance(error, RetryAfter)
        assert error.retry_after == dtm.timedelta(seconds=1)
        [rejected] = api.calls_for("sendMessage")
        assert (rejected.status, rejected.retry_after) == (429, 1)
        assert rejected.error == "Too Many Requests: retry after 1"

        api.fail_next("sendMessage", status=429, retry_after=1)
        await user.send_command("/retry")
        assert [m.text for m in await user.wait_reply()] == ["after waiting"]
        first, retry = api.calls_for("sendMessage")[-2:]
        assert first.rejected
        assert retry.ok
        assert retry.t_monotonic - first.t_monotonic >= 1.0


# -- error mapping and validation through PTB's Bot ---------------------------------------------


async def test_server_errors_and_blocked_user_map_to_ptb_errors(api: FakeBotApi) -> None:
    user = api.user(USER_ID)
    async with plain_bot(api) as bot:
        api.fail_next("sendMessage", status=500)
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(USER_ID, "x")
        api.fail_next("*", status=502, times=2)
        for _ in range(2):
            with pytest.raises(NetworkError, match="Bad Gateway"):
                await bot.send_chat_action(USER_ID, ChatAction.TYPING)
        api.set_latency(0.1, "sendChatAction")
        started = time.monotonic()
        await bot.send_chat_action(USER_ID, ChatAction.TYPING)
        assert time.monotonic() - started >= 0.1
        assert user.chat.last_action == "typing"
        assert "sendPhoto" not in api.supported_methods

        member_update = await user.block()
        assert member_update["my_chat_member"]["new_chat_member"]["status"] == "kicked"
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(USER_ID, "are you there?")
        await user.unblock()
        assert (await bot.send_message(USER_ID, "welcome back")).message_id == 1


async def test_telegram_validation_rules_reach_ptb_as_bad_request(api: FakeBotApi) -> None:
    # PTB capitalises only the first letter of descriptions, so match case-insensitively.
    api.user(USER_ID)
    async with plain_bot(api) as bot:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported start tag"):
            await bot.send_message(USER_ID, "<br>line", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)Character '\.' is reserved"):
            await bot.send_message(USER_ID, "Decree No. 821", parse_mode=ParseMode.MARKDOWN_V2)
        with pytest.raises(BadRequest, match=r"(?i)Chat not found"):
            await bot.send_message(999, "nobody")
        long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
        with pytest.raises(BadRequest, match=r"(?i)Button_data_invalid"):
            await bot.send_message(USER_ID, "x", reply_markup=long_data)
        sent = await bot.send_message(USER_ID, r"Decree No\. 821", parse_mode="MarkdownV2")
        assert sent.text == "Decree No. 821"
        with pytest.raises(BadRequest, match=r"(?i)Message is not modified"):
            await bot.edit_message_text("Decree No. 821", USER_ID, sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)Query is too old"):
            await bot.answer_callback_query("123")
        assert await bot.delete_message(USER_ID, sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)Message to delete not found"):
            await bot.delete_message(USER_ID, sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(USER_ID, "<b></b>", parse_mode=ParseMode.HTML)


async def test_bot_profile_methods_round_trip(api: FakeBotApi) -> None:
    user = api.user(USER_ID)
    async with plain_bot(api) as bot:
        commands = [BotCommand("start", "Начать"), BotCommand("help", "Ёрӣ")]
        assert await bot.set_my_commands(commands, language_code="tg")
        assert await bot.get_my_commands(language_code="tg") == tuple(commands)
        assert await bot.get_my_commands() == ()
        with pytest.raises(BadRequest, match=r"(?i)Bot_command_invalid"):
            await bot.set_my_commands([BotCommand("Start", "x")])
        assert await bot.set_my_description("Указ № 821", language_code="ru")
        assert await bot.set_my_short_description("Short")
        assert (await bot.get_my_description(language_code="ru")).description == "Указ № 821"
        assert (await bot.get_my_short_description("tg")).short_description == "Short"
        assert await bot.set_chat_menu_button(USER_ID, MenuButtonCommands())
        assert await bot.get_chat_menu_button(USER_ID) == MenuButtonCommands()
        assert await bot.close()
        # Files users send can be fetched through getFile and the file URL.
        photo = (await user.send_photo())["message"]["photo"][-1]
        file = await bot.get_file(photo["file_id"])
        assert bytes(await file.download_as_bytearray()).startswith(b"\xff\xd8")
    assert [c.method for c in api.calls if c.method.startswith("set")] == [
        "setMyCommands",
        "setMyCommands",
        "setMyDescription",
        "setMyShortDescription",
        "setChatMenuButton",
    ]


# -- webhook mode --------------------------------------------------------------------------------


async def test_webhook_mode_delivers_with_secret_and_ptb_checks_it(api: FakeBotApi) -> None:
    user = api.user(USER_ID)
    early = await user.send_command("/start")  # queued before the bot is up
    port = free_port()
    async with webhook(build_app(api), port) as app:
        assert api.webhook is not None
        assert api.webhook.url == f"http://127.0.0.1:{port}/hook"
        assert api.webhook.secret_token == "s3cret"
        [reply] = await user.wait_reply()  # the queued /start was flushed to the webhook
        assert reply.text == "Welcome! Choose:"
        assert api.webhook_responses[0].update_id == early["update_id"]
        await user.press("Yes")
        assert [m.text for m in await user.wait_reply()] == ["You chose yes"]
        assert {(d.status, d.secret) for d in api.webhook_responses} == {(200, "s3cret")}

        probe = {"update_id": api.new_update_id(), "message": user.chat.messages[0].to_json()}
        assert await api.deliver_raw(probe, secret="wrong") == 403
        assert await api.deliver_raw(probe, secret=None) == 403
        assert await api.deliver_raw({"update_id": 5, "message": "garbage"}) == 400
        assert len(api.undelivered_updates) == 3  # 4xx: recorded, not retried
        assert [d.attempt for d in api.webhook_responses[-3:]] == [1, 1, 1]

        info = await app.bot.get_webhook_info()
        assert info.url == api.webhook.url
        assert info.last_error_message == "Wrong response from the webhook: 400"
        with pytest.raises(Conflict, match="webhook is active"):
            await app.bot.get_updates()


async def test_webhook_retries_on_5xx_and_connection_errors(api: FakeBotApi) -> None:
    statuses = [500, 502]

    class Flaky(tornado.web.RequestHandler):
        def post(self) -> None:
            self.set_status(statuses.pop(0) if statuses else 200)

    sockets = tornado.netutil.bind_sockets(0, address="127.0.0.1")
    server = tornado.httpserver.HTTPServer(
        tornado.web.Application([(r"/hook", Flaky)], log_function=lambda _handler: None)
    )
    server.add_sockets(sockets)
    flaky_url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/hook"
    user = api.user(USER_ID)
    base = f"{api.bot_base_url}{TOKEN}"
    try:
        async with httpx.AsyncClient(trust_env=False) as http:
            refused = await http.post(f"{base}/setWebhook", data={"url": "https://example.org/"})
            assert refused.status_code == 400
            await http.post(f"{base}/setWebhook", data={"url": flaky_url})
            assert await user.send_text("hello") is not None
            assert [d.status for d in api.webhook_responses] == [500, 502, 200]
            first, _, last = api.webhook_responses
            assert last.t_monotonic - first.t_monotonic >= 0.05 + 0.1  # backoff

            await http.post(f"{base}/setWebhook", data={"url": f"http://127.0.0.1:{free_port()}/"})
            await user.send_text("nobody listens")
            lost = api.webhook_responses[3:]
            assert [(d.attempt, d.status) for d in lost] == [(n, None) for n in range(1, 5)]
            assert all(d.error for d in lost)
            assert api.undelivered_updates[-1]["message"]["text"] == "nobody listens"
            info = (await http.post(f"{base}/getWebhookInfo")).json()["result"]
            assert info["last_error_message"].startswith("ConnectError")
    finally:
        server.stop()
        await server.close_all_connections()


# -- waiting and accounting ----------------------------------------------------------------------


async def test_wait_reply_times_out_with_a_useful_message(api: FakeBotApi) -> None:
    user = api.user(USER_ID)
    await user.send_text("anyone?")
    with pytest.raises(TimeoutError, match=r"did not answer(.|\n)*user: anyone\?"):
        await user.wait_reply(timeout=0.1)


def _calls(method: str, chat_id: int, times: list[float], status: int = 200) -> list[Call]:
    return [Call(method, {}, chat_id, t, status=status) for t in times]


async def test_rate_violation_accounting() -> None:
    report = count_rate_violations(
        [
            *_calls("sendMessage", 1, [0.0, 0.5, 1.6]),  # 0.5 s after the first: 1 violation
            *_calls("sendMessage", 2, [0.0, 1.0]),  # exactly 1 s apart: fine
            *_calls("sendMessage", 3, [0.1, 0.2], status=429),  # rejected: sent nothing
            *_calls("editMessageText", 1, [0.0, 0.1, 0.2]),  # edits: tallied apart
            *_calls("deleteMessage", 1, [0.0, 0.1]),  # deletions: not counted
        ]
    )
    assert (report.per_chat, report.per_chat_edits, report.overall) == (1, 2, 0)
    assert report.chats == {1: 1}
    assert report.total == 1

    burst = [c for chat in range(100, 135) for c in _calls("sendMessage", chat, [chat / 1000])]
    assert count_rate_violations(burst).overall == 5  # 35 sends within 35 ms: 5 over 30/s

    group = _calls("sendMessage", -100, [2.0 * n for n in range(22)])  # 22 in 42 s
    report = count_rate_violations(group)
    assert (report.per_chat, report.group_per_minute) == (0, 2)

    async with FakeBotApi(token=TOKEN) as api:
        api.calls.extend(_calls("sendMessage", 7, [10.0, 10.2, 10.4]))
        assert api.rate_violations().per_chat == 2
        assert api.rate_violations(per_chat_per_second=3).per_chat == 0
