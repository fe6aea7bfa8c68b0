"""The python-telegram-bot application: handlers, start-up set-up, polling and webhook.

`build_application` wires `TelegramHandlers` into a PTB `Application` that talks to the Bot
API at `api_base_url` (Telegram's, a self-hosted server, or a test server on localhost).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import httpx
from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.adapters.telegram.endpoints import AnyApplication
from bot.adapters.telegram.fleet import PACE_PREFIX, RedisFleet
from bot.adapters.telegram.incoming import TelegramHandlers
from bot.adapters.telegram.pace import BookPaceWithWrite
from bot.adapters.telegram.sending import SendingBot
from bot.adapters.telegram.throttle import Throttle
from bot.compose import Parts, build_notices
from bot.config import StartupError
from bot.i18n import Renderer
from bot.messages import COMMANDS, DESCRIPTION, SHORT_DESCRIPTION
from bot.metrics import inner_limiter, metered
from bot.service import ChatService
from bot.storage import KeyMaker, RedisStore

__all__ = [
    "ALLOWED_UPDATES",
    "MENU_LANGUAGES",
    "PACE_PREFIX",
    "build_application",
    "log_error",
    "prepare",
    "share_fleet",
]

logger = logging.getLogger(__name__)

#: Update kinds the bot asks Telegram for; everything else is never delivered.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.INLINE_QUERY,
]
#: Telegram language codes with their own command menu and description ("" = the default).
#: Uzbek Cyrillic has no Telegram code of its own; Uzbek apps get the Latin menu.
MENU_LANGUAGES = {"": "ru", "ru": "ru", "tg": "tg", "uz": "uz", "az": "az", "en": "en"}
#: Updates processed at once; the store keeps each conversation consistent regardless. In a
#: surge most of them only wait for Telegram's limits, their webhook already answered
#: (`early`): a sleeping coroutine costs little, and a press must not queue behind them for
#: its answer, or its button spins (issue 18). Beyond this many, updates wait at Telegram.
CONCURRENT_UPDATES = 4096
#: Connections to the Bot API for calls (PTB's default).
REQUEST_POOL = 256


def build_application(parts: Parts) -> AnyApplication:
    """A PTB application for these parts; `prepare` must run after `initialize`."""
    settings = parts.settings
    if settings.token is None:
        msg = "DECREEBOT_TOKEN is not set"
        raise StartupError(msg)
    # PTB 22 reports time spans as timedelta with this set, and warns without it.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    # One TLS context for both clients: building one costs ~20 ms of the start.
    tls = {"verify": httpx.create_ssl_context()}
    bot = SendingBot(
        settings.token.get_secret_value(),
        base_url=settings.api_base_url,
        base_file_url=settings.api_base_url.replace("/bot", "/file/bot"),
        # What ApplicationBuilder would build: a pool for calls, one connection for polls.
        request=HTTPXRequest(connection_pool_size=REQUEST_POOL, httpx_kwargs=tls),
        get_updates_request=HTTPXRequest(connection_pool_size=1, httpx_kwargs=tls),
        rate_limiter=metered(Throttle(bulk_per_second=settings.bulk_rate), parts.metrics),
    )
    return (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(CONCURRENT_UPDATES)
        .application_class(_Application)
        .build()
    )


class _Application(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's application, minus one memory: without persistence PTB still adds the chat and
    user id of every update to two sets that only persistence ever empties. We have none,
    so the ids would stay in memory until a restart."""

    # A private PTB method (PTB 20.0 to 22.8, same signature), overridden because PTB offers
    # no public way: `update_persistence` returns early without persistence, leaving the sets
    # full. tests/test_privacy_claims.py checks the sets stay empty and that the signature still
    # matches PTB's; drop this once PTB skips the marking without persistence.
    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Any = None
    ) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)


async def log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """PTB's error handler: the error's class and where it happened (the traceback's frames),
    never its message, which may quote a person (bot.logs strips it)."""
    error = context.error
    logger.error("handler error: %s", type(error).__name__, exc_info=error)


async def prepare(application: AnyApplication, parts: Parts, *, key_secret: bytes) -> None:
    """Learn who we are, register handlers, and set menus and descriptions per language."""
    bot = application.bot
    parts.identity.username = bot.username
    if not isinstance(bot, SendingBot) or bot.defaults is not None:
        msg = "the application must be built by build_application (PTB Defaults do not apply)"
        raise TypeError(msg)
    service = parts.service
    fleet = share_fleet(application, parts, key_secret=key_secret)
    if isinstance(parts.store, RedisStore) and fleet is not None:
        # Typed answers: the write and the reply's booking in one round trip.
        paced = BookPaceWithWrite(parts.store, fleet)
        service = ChatService(
            store=paced,
            ttl_seconds=parts.settings.session_ttl,
            on_change=parts.service.on_change,  # the counts, as on the unpaced service
        )
    throttle = inner_limiter(bot.rate_limiter)
    pace = throttle if isinstance(throttle, Throttle) else None
    handlers = TelegramHandlers(
        bot=bot,
        service=service,
        renderer=parts.renderer,
        keys=KeyMaker(key_secret, bot.id),
        bot_username=bot.username,
        notices=build_notices(parts, key_secret=key_secret, bot_id=bot.id),
        pace=pace,
    )
    application.add_handler(CallbackQueryHandler(handlers.on_callback))
    application.add_handler(ChatMemberHandler(handlers.on_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, handlers.on_message)
    )
    application.add_error_handler(log_error)
    # Menus and descriptions, all languages at once: 18 calls one after another would hold
    # the first answer back by 18 trips to Telegram.
    await asyncio.gather(
        *(_set_menu(bot, parts.renderer, code, lang) for code, lang in MENU_LANGUAGES.items())
    )


def share_fleet(
    application: AnyApplication, parts: Parts, *, key_secret: bytes
) -> RedisFleet | None:
    """With Redis, the throttle keeps the fleet's budget there (every process of the bot
    shares it: each chat's pace, flood waits, the bulk budget); returns it. Needs the bot's
    id (after `initialize`)."""
    bot = application.bot
    throttle = inner_limiter(bot.rate_limiter)
    store = parts.store
    if not isinstance(throttle, Throttle) or not isinstance(store, RedisStore):
        return None
    settings = parts.settings
    fleet = RedisFleet(
        store.client,
        KeyMaker(key_secret, bot.id, prefix=PACE_PREFIX),
        bulk_rate=settings.bulk_rate,
        reply_cap=settings.reply_rate_cap,
    )
    throttle.share(fleet)
    if parts.metrics is not None:
        throttle.on_violation = parts.metrics.flood_violations.inc
    return fleet


async def _set_menu(bot: SendingBot, renderer: Renderer, code: str, lang: str) -> None:
    language_code = code or None
    try:
        await bot.set_my_commands(
            [BotCommand(name, renderer.gettext(text, lang)) for name, text in COMMANDS],
            language_code=language_code,
        )
        await bot.set_my_description(
            renderer.gettext(DESCRIPTION, lang), language_code=language_code
        )
        await bot.set_my_short_description(
            renderer.gettext(SHORT_DESCRIPTION, lang), language_code=language_code
        )
    except TelegramError as exc:
        logger.warning("could not set the menu for %s: %s", lang, type(exc).__name__)
