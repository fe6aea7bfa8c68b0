"""Inline mode: `@botname` typed in any chat offers the decree's short summary in each of
the bot's five languages, the person's own first, each with a button that opens the bot in
that language (a deep link).

The answer is the same for everyone with the same app language: what was typed after
`@botname` is not read, and nothing about the person is stored or logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import ContextTypes, InlineQueryHandler

from bot.adapters.telegram.endpoints import AnyApplication
from bot.conversation import Preset, make_payload, negotiate
from bot.conversation.replies import N_
from bot.conversation.screens import INFO, LANGUAGE_NAMES
from bot.i18n import Renderer
from bot.messages import SHORT_DESCRIPTION

__all__ = ["CHECK_OWN_CASE", "INLINE_LANGUAGES", "InlineAnswers", "install", "order_for"]

logger = logging.getLogger(__name__)

#: The languages offered, in this order after the person's own (English is the source only).
INLINE_LANGUAGES = ("ru", "tg", "uz", "uz_Cyrl", "az")
CHECK_OWN_CASE = N_("Check your own case")
_NOT_ADVICE = N_("This is information, not legal advice.")
#: Seconds Telegram may keep the answer; it changes only with a new release.
_CACHE_SECONDS = 3600


def order_for(language_code: str | None) -> tuple[str, ...]:
    """The five languages, the one of the person's app first when it is one of them."""
    own = negotiate(language_code)
    if own not in INLINE_LANGUAGES:
        return INLINE_LANGUAGES
    return (own, *(lang for lang in INLINE_LANGUAGES if lang != own))


class InlineAnswers:
    """Builds and sends the inline results; the texts are rendered once per language."""

    def __init__(self, renderer: Renderer, username: Callable[[], str | None]) -> None:
        self._renderer = renderer
        self._username = username

    def result(self, lang: str) -> InlineQueryResultArticle:
        """The summary in one language, with its button."""
        render = self._renderer
        text = "\n\n".join((render.text(INFO["decree"], lang), render.gettext(_NOT_ADVICE, lang)))
        link = f"https://t.me/{self._username()}?start={make_payload(Preset(lang=lang))}"
        button = InlineKeyboardButton(render.gettext(CHECK_OWN_CASE, lang), url=link)
        return InlineQueryResultArticle(
            id=lang,
            title=LANGUAGE_NAMES[lang],
            description=render.gettext(SHORT_DESCRIPTION, lang),
            input_message_content=InputTextMessageContent(text),
            reply_markup=InlineKeyboardMarkup(((button,),)),
        )

    async def on_inline_query(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer with the five summaries; the query's text is not read."""
        query = update.inline_query
        if query is None:
            return
        code = query.from_user.language_code if query.from_user else None
        results = [self.result(lang) for lang in order_for(code if isinstance(code, str) else None)]
        try:
            # Personal: the order follows the person's app language.
            await query.answer(results, cache_time=_CACHE_SECONDS, is_personal=True)
        except TelegramError as exc:  # an old query, or Telegram busy: nothing to do
            logger.info("inline answer not sent: %s", type(exc).__name__)


def install(
    application: AnyApplication, renderer: Renderer, username: Callable[[], str | None]
) -> None:
    """Answer inline queries in this application."""
    answers = InlineAnswers(renderer, username)
    application.add_handler(InlineQueryHandler(answers.on_inline_query))
