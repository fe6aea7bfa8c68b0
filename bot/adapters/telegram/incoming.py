"""Handlers: Telegram updates in, one `Delivery` and event to `ChatService`, messages out.

They only translate. Nothing here decides what to ask or what the decree means, and nothing
here logs a name, an id, a username, an answer or typed text. What an update says is read in
`commands.py`; replies are shaped in `outgoing.py` and sent in `replying.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import date

from telegram import CallbackQuery, Chat, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.adapters.telegram.commands import (
    MAX_TEXT,
    delivery_of,
    group_language,
    hint_of,
    text_event,
)
from bot.adapters.telegram.early import taken
from bot.adapters.telegram.outgoing import Shaper
from bot.adapters.telegram.pace import book_pace_with_write
from bot.adapters.telegram.replying import Replier, answer_in_group, refused
from bot.adapters.telegram.sending import SendingBot
from bot.adapters.telegram.throttle import Throttle
from bot.conversation import Event, decode_button
from bot.conversation.events import ShowNotice
from bot.conversation.replies import Msg
from bot.i18n import Renderer
from bot.messages import BUSY, TOO_LONG, UNKNOWN_COMMAND, UNSUPPORTED
from bot.notices import Notices
from bot.service import ChatService, Delivery, Handled, Pacing
from bot.storage import KeyMaker

__all__ = ["MAX_IN_FLIGHT", "TelegramHandlers"]

logger = logging.getLogger(__name__)

#: Updates of one chat handled at once by this process; more are dropped unread (a flood),
#: so one person can hold only a few of the updates processed at once and never starve others.
MAX_IN_FLIGHT = 4
#: A press whose reply will wait longer than this (seconds) is answered with a toast.
TOAST_AFTER = 5.0


class TelegramHandlers:
    """The PTB callbacks. Every collaborator is given here; none is set later."""

    def __init__(
        self,
        *,
        bot: SendingBot,
        service: ChatService,
        renderer: Renderer,
        keys: KeyMaker,
        bot_username: str,
        notices: Notices | None = None,
        pace: Throttle | None = None,
        today: type[date] = date,
    ) -> None:
        self._service = service
        self._renderer = renderer
        self._keys = keys
        self._bot_username = bot_username
        self._notices = notices
        #: The outgoing pace: told when everything about a chat is deleted (it keeps the
        #: chat's pace), asked how long a reply would wait now (a toast for a long wait).
        self._pace = pace
        self._today = today
        self._shaper = Shaper(renderer)
        self._replier = Replier(bot)
        self._in_flight: dict[int, int] = {}

    # --- entry points (registered in app.py) ---------------------------------------------

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Text, commands and anything else a person sends in a private chat or a group."""
        message, chat = update.message, update.effective_chat
        if message is None or chat is None:
            return
        with self._admit(chat.id) as admitted:
            if not admitted:
                return
            if chat.type != ChatType.PRIVATE:
                await answer_in_group(
                    message, hint_of(update.effective_user), self._renderer, self._bot_username
                )
                return
            hint = hint_of(update.effective_user)
            text = message.text
            if not isinstance(text, str):  # None, or a forged update's number
                await self._say(chat.id, UNSUPPORTED, hint)
            elif len(text) > MAX_TEXT:
                await self._say(chat.id, TOO_LONG, hint)
            elif (event := text_event(text, hint)) is None:
                await self._say(chat.id, UNKNOWN_COMMAND, hint)
            else:
                kind = "command" if text.startswith("/") else "text"
                delivery = delivery_of(update, hint, Pacing.NEW_MESSAGES)
                await self._handle(chat, message, event, delivery, kind=kind)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: always answered, so no spinner is left on the phone."""
        query = update.callback_query
        if query is None:
            return
        chat = update.effective_chat
        event = decode_button(query.data or "") if isinstance(query.data, str) else None
        if event is None or chat is None or chat.type != ChatType.PRIVATE:
            await self._replier.answer(query)
            return
        with self._admit(chat.id) as admitted:
            if admitted:
                if isinstance(event, ShowNotice) and self._notices is not None:
                    event = await self._notices.restore(chat.id) or event
                delivery = delivery_of(update, hint_of(query.from_user), Pacing.PRESSED)
                pressed = query.message if isinstance(query.message, Message) else None
                await self._handle(chat, pressed, event, delivery, kind="button", query=query)
                return
        await self._replier.answer(query)  # dropped: at least the spinner stops

    async def on_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The person blocked the bot: delete what we keep about them."""
        member = update.my_chat_member
        # A forged update may lack what Telegram always sends.
        if member is None or member.chat is None or member.new_chat_member is None:
            return
        if member.chat.type != ChatType.PRIVATE:
            return
        if member.new_chat_member.status in {ChatMemberStatus.BANNED, ChatMemberStatus.LEFT}:
            await self._blocked(member.chat.id)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error class only: messages can quote user input."""
        logger.error("handler error: %s", type(context.error).__name__)

    # --- the one path every conversation event takes -------------------------------------

    async def _handle(
        self,
        chat: Chat,
        message: Message | None,
        event: Event,
        delivery: Delivery,
        *,
        kind: str,
        query: CallbackQuery | None = None,
    ) -> None:
        """The event to the service, then its consequences, then the reply. `message` is the
        person's (typed) or the pressed one (a button), if Telegram sent it."""
        started = time.perf_counter()
        # The spinner's answer needs nothing from the conversation: it goes while the store
        # is asked (its work overlaps the round trip; the phone stops spinning sooner).
        answering = (
            asyncio.ensure_future(self._replier.answer(query, self._toast(chat.id, delivery)))
            if query
            else None
        )
        try:
            with _paced(delivery):
                handled = await self._service.handle(
                    self._keys.for_chat(chat.id), event, delivery, today=self._today.today()
                )
        finally:
            if answering is not None:
                await answering
        if self._pace is not None:  # written: Telegram's connection need not wait (`early`)
            taken(self._pace.expected_wait, chat.id)
        await self._apply(chat, handled, message)
        await self._reply(chat, handled, pressed=message if query is not None else None)
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

    async def _apply(self, chat: Chat, handled: Handled, message: Message | None) -> None:
        """What the answer asks besides replies: wipe the chat up to `message`, keep or drop
        a notice."""
        if handled.wipe and message is not None:
            await self._replier.wipe(chat, message.message_id, handled.wipe_from)
        if self._notices is not None:
            if handled.subscribe is not None:
                await self._notices.subscribe(chat.id, handled.subscribe, today=self._today.today())
            if handled.unsubscribe:
                await self._notices.forget(chat.id)

    async def _reply(self, chat: Chat, handled: Handled, *, pressed: Message | None) -> None:
        outgoing = self._shaper.messages(handled.replies, handled.lang)
        try:
            await self._replier.deliver(chat.id, pressed, outgoing, replay=handled.replay)
        except Forbidden:
            await self._blocked(chat.id)
        except BadRequest as exc:
            refused(exc)

    async def _blocked(self, chat_id: int) -> None:
        await self._service.forget(self._keys.for_chat(chat_id))
        await self._forgotten(chat_id)
        logger.info("blocked: conversation deleted")

    async def _forgotten(self, chat_id: int) -> None:
        if self._notices is not None:
            await self._notices.forget(chat_id)
        if self._pace is not None:
            await self._pace.forget(chat_id)

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

    def _toast(self, chat_id: int, delivery: Delivery) -> str | None:
        """For a press whose reply will wait long (many people at once): a short word that
        it is coming, in the app's language (the conversation's is not read yet)."""
        if self._pace is None or self._pace.expected_wait(chat_id) <= TOAST_AFTER:
            return None
        lang = group_language(delivery.hint, self._renderer.languages)
        return self._renderer.text(Msg(BUSY), lang)

    # --- small replies that do not touch the conversation --------------------------------

    async def _say(self, chat_id: int, message_id: str, hint: str | None) -> None:
        lang = await self._service.language(self._keys.for_chat(chat_id), hint)
        await self._replier.say(chat_id, self._renderer.text(Msg(message_id), lang))


def _paced(delivery: Delivery) -> contextlib.AbstractContextManager[None]:
    """While the service handles `delivery`: a write whose replies make a new message books
    the chat's pace in the same round trip (`pace.BookPaceWithWrite`)."""
    if delivery.pacing is None:
        return contextlib.nullcontext()
    return book_pace_with_write(pressed=delivery.pacing is Pacing.PRESSED)
