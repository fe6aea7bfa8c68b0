"""Handlers: Telegram updates in, conversation events to `ChatService`, messages out.

They only translate. Nothing here decides what to ask or what the decree means, and nothing
here logs a name, an id, a username, an answer or typed text.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ChatMemberStatus, ChatType, MessageLimit
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.adapters.telegram.pace import book_pace_with_write
from bot.adapters.telegram.sending import SendingBot
from bot.caching import Bounded
from bot.conversation import (
    Back,
    Event,
    Forget,
    Info,
    Reply,
    Restart,
    SetLanguage,
    Start,
    Text,
    decode_button,
    negotiate,
)
from bot.conversation.events import ShowNotice
from bot.conversation.replies import Msg
from bot.conversation.screens import INFO
from bot.i18n import Rendered, Renderer
from bot.messages import (
    BUSY,
    GROUP_ONLY_PRIVATE,
    OPEN_PRIVATE_CHAT,
    TOO_LONG,
    UNKNOWN_COMMAND,
    UNSUPPORTED,
)
from bot.notices import Notices
from bot.service import DEFAULT_LANGUAGE, ChatService, Handled
from bot.storage import KeyMaker

__all__ = ["MAX_IN_FLIGHT", "MAX_TEXT", "TelegramHandlers"]

logger = logging.getLogger(__name__)

#: Longer typed text is not read: no answer of ours needs more.
MAX_TEXT = 300
#: Updates of one chat handled at once by this process; more are dropped unread (a flood),
#: so one person can hold only a few of the updates processed at once and never starve others.
MAX_IN_FLIGHT = 4
#: /forget deletes at most this many messages back when the conversation's start is unknown.
WIPE_WINDOW = 100
#: A press whose reply will wait longer than this (seconds) is answered with a toast.
TOAST_AFTER = 5.0
#: Serialised keyboards kept (questions x languages x turns in use), oldest dropped first.
_KEYBOARDS_KEPT = 4096

_COMMANDS: dict[str, Event] = {
    "back": Back(),
    "restart": Restart(),
    "language": SetLanguage(None),
    "forget": Forget(),
    "help": Info("help"),
    "privacy": Info("privacy"),
    "decree": Info("decree"),
}


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """One Telegram message to send or to put in place of the pressed one."""

    text: str
    #: The inline keyboard as the Bot API receives it (JSON), or None.
    markup: str | None
    edit: bool


class TelegramHandlers:
    """The PTB callbacks, closing over the service, the renderer and the key maker."""

    def __init__(
        self,
        *,
        bot: SendingBot,
        service: ChatService,
        renderer: Renderer,
        keys: KeyMaker,
        bot_username: str,
        notices: Notices | None = None,
        today: type[date] = date,
    ) -> None:
        self._bot = bot
        self._service = service
        self._renderer = renderer
        self._keys = keys
        self.bot_username = bot_username
        self._notices = notices
        self._today = today
        self._in_flight: dict[int, int] = {}
        #: Called with a chat id when everything about the chat is deleted (not its pace).
        self.on_forget: Callable[[int], Awaitable[None]] | None = None
        #: About how long a new message to a chat would wait now (the throttle's estimate).
        self.wait_estimate: Callable[[int], float] | None = None
        self._keyboards: Bounded[tuple[tuple[tuple[str, str], ...], ...], str] = Bounded(
            _KEYBOARDS_KEPT
        )

    # --- entry points (registered in app.py) ---------------------------------------------

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Text, commands and anything else a person sends in a private chat or a group."""
        message = update.message
        if message is None or update.effective_chat is None:
            return
        with self._admit(update.effective_chat.id) as admitted:
            if admitted:
                await self._on_message(update, message)

    async def _on_message(self, update: Update, message: Message) -> None:
        assert update.effective_chat is not None
        if update.effective_chat.type != ChatType.PRIVATE:
            await self._in_group(update, message)
            return
        hint = _hint(update.effective_user)
        text = message.text
        if not isinstance(text, str):  # None, or a forged update's number
            await self._say(update, UNSUPPORTED, hint)
            return
        if len(text) > MAX_TEXT:
            await self._say(update, TOO_LONG, hint)
            return
        event = _command_event(text, hint) if text.startswith("/") else Text(text)
        if event is None:
            await self._say(update, UNKNOWN_COMMAND, hint)
            return
        with book_pace_with_write():  # the reply to typed text is a new message
            await self._handle(
                update, event, hint, kind="command" if text.startswith("/") else "text"
            )

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: always answered, so no spinner is left on the phone."""
        query = update.callback_query
        if query is None:
            return
        chat = update.effective_chat
        event = decode_button(query.data or "") if isinstance(query.data, str) else None
        if event is None or chat is None or chat.type != ChatType.PRIVATE:
            await self._answer(query)
            return
        hint = _hint(query.from_user)
        with self._admit(chat.id) as admitted:
            if admitted:
                if isinstance(event, ShowNotice) and self._notices is not None:
                    event = await self._notices.restore(chat.id) or event
                with book_pace_with_write(pressed=True):
                    await self._handle(update, event, hint, kind="button", query=query)
                return
        await self._answer(query)  # dropped: at least the spinner stops

    async def on_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The person blocked the bot: delete what we keep about them."""
        member = update.my_chat_member
        # A forged update may lack what Telegram always sends.
        if member is None or member.chat is None or member.new_chat_member is None:
            return
        if member.chat.type != ChatType.PRIVATE:
            return
        if member.new_chat_member.status in {ChatMemberStatus.BANNED, ChatMemberStatus.LEFT}:
            await self._service.forget(self._keys.for_chat(member.chat.id))
            await self._forgotten(member.chat.id)
            logger.info("blocked: conversation deleted")

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error class only: messages can quote user input."""
        logger.error("handler error: %s", type(context.error).__name__)

    async def _forgotten(self, chat_id: int) -> None:
        if self._notices is not None:
            await self._notices.forget(chat_id)
        if self.on_forget is not None:
            await self.on_forget(chat_id)

    @contextlib.contextmanager
    def _admit(self, chat_id: int) -> Iterator[bool]:
        """Whether this chat may have one more update in flight here; counts it while it is."""
        count = self._in_flight.get(chat_id, 0)
        if count >= MAX_IN_FLIGHT:
            logger.info("flood: update dropped")
            yield False
            return
        self._in_flight[chat_id] = count + 1
        try:
            yield True
        finally:
            left = self._in_flight[chat_id] - 1
            if left:
                self._in_flight[chat_id] = left
            else:
                del self._in_flight[chat_id]

    # --- the one path every event takes --------------------------------------------------

    async def _handle(
        self,
        update: Update,
        event: Event,
        hint: str | None,
        *,
        kind: str,
        query: CallbackQuery | None = None,
    ) -> None:
        chat = update.effective_chat
        assert chat is not None
        message = update.effective_message
        started = time.perf_counter()
        key = self._keys.for_chat(chat.id)

        # The spinner's answer needs nothing from the conversation: it goes while the store
        # is asked (its work overlaps the round trip; the phone stops spinning sooner).
        answering = (
            asyncio.ensure_future(self._answer(query, self._toast(chat.id, hint)))
            if query is not None
            else None
        )
        try:
            handled = await self._service.handle(
                key,
                event,
                today=self._today.today(),
                # Telegram's are integers; a forged one may be anything, and is not deduplicated.
                update_id=update.update_id if type(update.update_id) is int else None,
                message_id=message.message_id
                if message and type(message.message_id) is int
                else None,
                hint=hint,
                replay=True,
            )
        finally:
            if answering is not None:
                await answering
        if handled.wipe and message is not None:
            await _wipe(update, message, handled.wipe_from)
        if self._notices is not None:
            if handled.subscribe is not None:
                await self._notices.subscribe(chat.id, handled.subscribe, today=self._today.today())
            if handled.unsubscribe:
                await self._notices.forget(chat.id)
        try:
            await self._deliver(update, handled, query)
        except Forbidden:
            await self._service.forget(key)
            await self._forgotten(chat.id)
            logger.info("blocked: conversation deleted")
        except BadRequest as exc:
            _refused(exc)
        if handled.wipe:
            await self._forgotten(chat.id)
        logger.info(
            "%s handled step=%s duplicate=%s unavailable=%s ms=%.1f",
            kind,
            handled.step,
            handled.duplicate,
            handled.unavailable,
            (time.perf_counter() - started) * 1000,
        )

    async def _deliver(self, update: Update, handled: Handled, query: CallbackQuery | None) -> None:
        chat = update.effective_chat
        assert chat is not None
        pressed = (
            query.message if query is not None and isinstance(query.message, Message) else None
        )
        if handled.replay:
            await self._replay(chat.id, pressed, self._messages(handled))
            return
        bot = self._bot
        for outgoing in self._messages(handled):
            if outgoing.edit and pressed is not None:
                if _unchanged(pressed, outgoing):  # an edit that changes nothing is not sent
                    pressed = None
                    continue
                try:
                    await bot.edit_text(chat.id, pressed.message_id, outgoing.text, outgoing.markup)
                    pressed = None  # edit one message at most, the one pressed
                    continue
                except BadRequest as exc:
                    if "not modified" in str(exc).lower():
                        pressed = None
                        continue
                    # Too old or deleted: send it as a new message instead.
            await bot.send_text(chat.id, outgoing.text, outgoing.markup)

    async def _replay(
        self, chat_id: int, pressed: Message | None, outgoing: list[_Outgoing]
    ) -> None:
        """The current screen again, for an update delivered again whose reply may be lost
        (the process that applied it died before replying): in place of the pressed message,
        which changes nothing if the reply did arrive; for a typed message, as a new one."""
        if len(outgoing) != 1:
            return
        screen = outgoing[0]
        if pressed is None:
            await self._bot.send_text(chat_id, screen.text, screen.markup)
            return
        if _unchanged(pressed, screen):  # the first reply did arrive: nothing to send
            return
        with contextlib.suppress(BadRequest):  # "not modified": it arrived meanwhile
            await self._bot.edit_text(chat_id, pressed.message_id, screen.text, screen.markup)

    def _toast(self, chat_id: int, hint: str | None) -> str | None:
        """For a press whose reply will wait long (many people at once): a short word that
        it is coming, in the app's language (the conversation's is not read yet)."""
        estimate = self.wait_estimate
        if estimate is None or estimate(chat_id) <= TOAST_AFTER:
            return None
        return self._renderer.text(Msg(BUSY), _group_language(hint, self._renderer.languages))

    async def _answer(self, query: CallbackQuery, toast: str | None = None) -> None:
        try:
            await self._bot.answer_query(query.id, toast)
        except TelegramError:
            logger.info("callback answer failed")  # too old: the spinner has gone by itself

    def _messages(self, handled: Handled) -> list[_Outgoing]:
        """Replies merged into as few messages as possible (fewer messages, calmer chat)."""
        rendered = [self._renderer.render(r, handled.lang) for r in handled.replies]
        merged: list[Rendered] = []
        for item in rendered:
            last = merged[-1] if merged else None
            if (
                last is not None
                and not last.buttons
                and not item.standalone
                and not last.standalone
            ):
                merged[-1] = replace(item, text=f"{last.text}\n\n{item.text}", edit=last.edit)
            else:
                merged.append(item)
        out: list[_Outgoing] = []
        for item in merged:
            chunks = _chunks(item.text)
            final = len(chunks) - 1
            for i, chunk in enumerate(chunks):
                markup = self._keyboard(item.buttons) if i == final else None
                out.append(_Outgoing(chunk, markup, item.edit and i == 0))
        return out

    def _keyboard(self, rows: tuple[tuple[tuple[str, str], ...], ...]) -> str | None:
        """The keyboard's JSON, exactly as PTB serialises the `InlineKeyboardMarkup`; made
        once per keyboard, since building and serialising PTB objects costs more than the rest
        of a reply."""
        if not rows:
            return None
        cached = self._keyboards.get(rows)
        if cached is None:
            markup = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                    for row in rows
                ]
            )
            cached = self._keyboards.put(rows, json.dumps(markup.to_dict()))
        return cached

    # --- small replies that do not touch the conversation --------------------------------

    async def _say(self, update: Update, message_id: str, hint: str | None) -> None:
        chat = update.effective_chat
        assert chat is not None
        lang = await self._service.language(self._keys.for_chat(chat.id), hint)
        try:
            await self._bot.send_text(chat.id, self._renderer.text(Msg(message_id), lang))
        except BadRequest as exc:
            _refused(exc)

    async def _in_group(self, update: Update, message: Message) -> None:
        """In groups only /decree and /start are answered; nothing personal is asked."""
        text = message.text if isinstance(message.text, str) else ""
        command = _command_name(text, self.bot_username)
        if command not in {"start", "decree"} or update.effective_chat is None:
            return
        lang = _group_language(_hint(update.effective_user), self._renderer.languages)
        try:
            if command == "decree":
                decree = self._renderer.render(Reply((INFO["decree"],)), lang).text
                await message.reply_text(decree)
                return
            link = f"https://t.me/{self.bot_username}?start={lang}"
            label = self._renderer.text(Msg(OPEN_PRIVATE_CHAT), lang)
            await message.reply_text(
                self._renderer.text(Msg(GROUP_ONLY_PRIVATE), lang),
                reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(label, url=link)]]),
            )
        except BadRequest as exc:
            _refused(exc)


def _unchanged(pressed: Message, outgoing: _Outgoing) -> bool:
    """Whether the pressed message already reads as `outgoing`: the same text and keyboard."""
    if pressed.text != outgoing.text:
        return False
    markup = pressed.reply_markup
    if outgoing.markup is None or markup is None:
        return outgoing.markup is None and markup is None
    return bool(json.loads(outgoing.markup) == markup.to_dict())


def _hint(user: User | None) -> str | None:
    """The app's language code, if it is one (a forged update may carry anything)."""
    code = user.language_code if user is not None else None
    return code if isinstance(code, str) else None


def _refused(exc: BadRequest) -> None:
    """Telegram refused a message: the chat is gone, or the update was forged. Logged by
    class only (its text can quote the message)."""
    logger.warning("message refused: %s", type(exc).__name__)


def _group_language(hint: str | None, languages: tuple[str, ...]) -> str:
    found = negotiate(hint)
    return found if found in languages else DEFAULT_LANGUAGE


def _command_name(text: str, bot_username: str) -> str | None:
    """ "/start@our_bot payload" → "start"; a command for another bot → None."""
    if not text.startswith("/"):
        return None
    head = text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""
    name, _, target = head.partition("@")
    if target and target.lower() != bot_username.lower():
        return None
    return name.lower()


def _command_event(text: str, hint: str | None) -> Event | None:
    name = _command_name(text, "")  # private chats: a @mention is irrelevant
    if name is None:
        return None
    if name == "start":
        parts = text.split(maxsplit=1)
        return Start(payload=parts[1] if len(parts) > 1 else None, hint=hint)
    return _COMMANDS.get(name)


def _chunks(text: str) -> list[str]:
    """Split at paragraph breaks to stay under Telegram's 4096 characters per message."""
    limit = MessageLimit.MAX_TEXT_LENGTH
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        current = paragraph[:limit]
    chunks.append(current)
    return chunks


async def _wipe(update: Update, message: Message, first: int | None) -> None:
    """Delete the conversation's messages, both sides (allowed in private chats for 48 h)."""
    chat = update.effective_chat
    assert chat is not None
    last = message.message_id
    start = max(1, last - WIPE_WINDOW if first is None else max(first, last - 10 * WIPE_WINDOW))
    ids = list(range(start, last + 1))
    for i in range(0, len(ids), 100):
        try:
            await chat.delete_messages(ids[i : i + 100])
        except TelegramError:
            logger.info("some messages could not be deleted")
