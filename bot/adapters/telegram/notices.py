"""Sending a notice through Telegram: render it in the person's language, send it, and say
what became of it (a blocked bot or a deleted chat means the subscription goes)."""

from __future__ import annotations

import logging
from datetime import date

from telegram.error import BadRequest, Forbidden, TelegramError

from bot.adapters.telegram.app import build_application
from bot.adapters.telegram.outgoing import keyboard_json
from bot.adapters.telegram.sending import SendingBot
from bot.compose import Parts, build_notices
from bot.conversation.notice import notice_reply
from bot.i18n import Renderer
from bot.notices import Courier, NoticeReport, Outcome, Subscription, notify
from rules import Finding

__all__ = ["NoticeSender", "run_notices"]

logger = logging.getLogger(__name__)


class NoticeSender:
    """`notify`'s `send` for Telegram."""

    def __init__(self, bot: SendingBot, renderer: Renderer) -> None:
        self._bot = bot
        self._renderer = renderer

    async def __call__(self, chat_id: int, subscription: Subscription, finding: Finding) -> Outcome:
        told = subscription.told
        before = (told.outcome, told.requirement_met, told.certainty)
        reply = notice_reply(before, finding, subscription.mode)
        rendered = self._renderer.render(reply, subscription.lang)
        markup = keyboard_json(rendered.buttons)
        try:
            await self._bot.send_text(chat_id, rendered.text, markup)
        except Forbidden:
            return Outcome.GONE
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                return Outcome.GONE
            logger.warning("notice refused: %s", type(exc).__name__)
            return Outcome.FAILED
        except TelegramError as exc:
            logger.warning("notice not sent: %s", type(exc).__name__)
            return Outcome.FAILED
        return Outcome.SENT


async def run_notices(
    parts: Parts, *, key_secret: bytes, today: date, dry_run: bool
) -> NoticeReport:
    """One notice run (`decree-bot notify`); a dry run needs only the store, not Telegram."""
    if dry_run:
        return await notify(parts.notice_store, None, today=today)
    application = build_application(parts)
    async with application:  # learns the bot's id, which the subscriptions' keys depend on
        notices = build_notices(parts, key_secret=key_secret, bot_id=application.bot.id)
        courier = Courier(notices.seal, NoticeSender(application.bot, parts.renderer))
        return await notify(notices.store, courier, today=today)
