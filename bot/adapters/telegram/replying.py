"""Replying: shaped messages go to Telegram, as new messages or in place of the pressed one;
and the short answers in groups, where nothing personal is asked.

Telegram's refusals are logged by class only: their text can quote the message.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import CallbackQuery, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, TelegramError

from bot.adapters.telegram.commands import command_name, group_language
from bot.adapters.telegram.outgoing import Outgoing
from bot.adapters.telegram.sending import SendingBot
from bot.conversation import Reply
from bot.conversation.replies import Msg
from bot.conversation.screens import INFO
from bot.i18n import Renderer
from bot.messages import GROUP_ONLY_PRIVATE, OPEN_PRIVATE_CHAT

__all__ = ["WIPE_WINDOW", "Replier", "answer_in_group", "refused"]

logger = logging.getLogger(__name__)

#: /forget deletes at most this many messages back when the conversation's start is unknown.
WIPE_WINDOW = 100


class Replier:
    """Sends, edits, answers presses and deletes, through one `SendingBot`."""

    def __init__(self, bot: SendingBot) -> None:
        self._bot = bot

    async def deliver(
        self, chat_id: int, pressed: Message | None, outgoing: list[Outgoing], *, replay: bool
    ) -> None:
        """The messages, the first marked `edit` in place of `pressed` (if any), the rest new.
        Raises `Forbidden` when the person blocked the bot."""
        if replay:
            await self._replay(chat_id, pressed, outgoing)
            return
        bot = self._bot
        for message in outgoing:
            if message.edit and pressed is not None:
                try:
                    await bot.edit_text(chat_id, pressed.message_id, message.text, message.markup)
                    pressed = None  # edit one message at most, the one pressed
                    continue
                except BadRequest as exc:
                    if "not modified" in str(exc).lower():
                        pressed = None
                        continue
                    # Too old or deleted: send it as a new message instead.
            await bot.send_text(chat_id, message.text, message.markup)

    async def _replay(
        self, chat_id: int, pressed: Message | None, outgoing: list[Outgoing]
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
        with contextlib.suppress(BadRequest):  # "not modified": the first reply did arrive
            await self._bot.edit_text(chat_id, pressed.message_id, screen.text, screen.markup)

    async def say(self, chat_id: int, text: str) -> None:
        """One short message outside the conversation."""
        try:
            await self._bot.send_text(chat_id, text)
        except BadRequest as exc:
            refused(exc)

    async def answer(self, query: CallbackQuery) -> None:
        """Stop the spinner on the person's phone."""
        try:
            await self._bot.answer_query(query.id)
        except TelegramError:
            logger.info("callback answer failed")  # too old: the spinner has gone by itself

    async def wipe(self, chat: Chat, last: int, first: int | None) -> None:
        """Delete the conversation's messages, both sides (allowed in private chats for 48 h),
        from `first` (None: unknown) to `last`."""
        start = max(1, last - WIPE_WINDOW if first is None else max(first, last - 10 * WIPE_WINDOW))
        ids = list(range(start, last + 1))
        for i in range(0, len(ids), 100):
            try:
                await chat.delete_messages(ids[i : i + 100])
            except TelegramError:
                logger.info("some messages could not be deleted")


async def answer_in_group(
    message: Message, hint: str | None, renderer: Renderer, bot_username: str
) -> None:
    """In groups only /decree and /start are answered; nothing personal is asked."""
    text = message.text if isinstance(message.text, str) else ""
    command = command_name(text, bot_username)
    if command not in {"start", "decree"}:
        return
    lang = group_language(hint, renderer.languages)
    try:
        if command == "decree":
            await message.reply_text(renderer.render(Reply((INFO["decree"],)), lang).text)
            return
        link = f"https://t.me/{bot_username}?start={lang}"
        label = renderer.text(Msg(OPEN_PRIVATE_CHAT), lang)
        await message.reply_text(
            renderer.text(Msg(GROUP_ONLY_PRIVATE), lang),
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(label, url=link)]]),
        )
    except BadRequest as exc:
        refused(exc)


def refused(exc: BadRequest) -> None:
    """Telegram refused a message: the chat is gone, or the update was forged. Logged by
    class only (its text can quote the message)."""
    logger.warning("message refused: %s", type(exc).__name__)
