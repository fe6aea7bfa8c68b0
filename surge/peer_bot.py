"""The peer: a minimal python-telegram-bot bot with PTB's own `AIORateLimiter`.

It answers the way decree-bot does, one Bot API message per update: a text or command gets
a new message with a button, a press is answered (`answerCallbackQuery`) and its message
edited. It keeps no state. It runs as a webhook server with PTB's `run_webhook`, in the peers'
venv (`make surge-peers`: python-telegram-bot[rate-limiter,webhooks]), one process per
worker behind the surge's forwarder:

    SURGE_TOKEN=… SURGE_API_BASE_URL=http://127.0.0.1:PORT/bot SURGE_PORT=… \\
    SURGE_WEBHOOK_URL=… SURGE_WEBHOOK_SECRET=… python -m surge.peer_bot

`AIORateLimiter` is used as its documentation shows, with retries on 429
(`SURGE_MAX_RETRIES`, default 5; PTB's default 0 would drop the reply): at most 30 requests
with a chat a second and 20 a minute per group, per process, and a 429 pauses all of this
process's requests for `retry_after`.
"""

from __future__ import annotations

import logging
import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

#: Updates handled at once in one process (decree-bot's figure).
CONCURRENT_UPDATES = 64


def _keyboard(step: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data=f"n{step}")]])


async def on_text(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text("Step 1: press Next", reply_markup=_keyboard(1))


async def on_press(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or not query.data:
        return
    step = int(query.data[1:])
    await query.answer()
    await query.edit_message_text(f"Step {step + 1}: press Next", reply_markup=_keyboard(step + 1))


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    env = os.environ
    base = env["SURGE_API_BASE_URL"]
    application = (
        ApplicationBuilder()
        .token(env["SURGE_TOKEN"])
        .base_url(base)
        .base_file_url(base.replace("/bot", "/file/bot"))
        .rate_limiter(AIORateLimiter(max_retries=int(env.get("SURGE_MAX_RETRIES", "5"))))
        .concurrent_updates(CONCURRENT_UPDATES)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, on_text))
    application.add_handler(CallbackQueryHandler(on_press))
    url = env["SURGE_WEBHOOK_URL"]
    application.run_webhook(
        listen="127.0.0.1",
        port=int(env["SURGE_PORT"]),
        url_path=url.split("://", 1)[-1].partition("/")[2],
        secret_token=env["SURGE_WEBHOOK_SECRET"],
        webhook_url=url,
        allowed_updates=["message", "callback_query"],
    )


if __name__ == "__main__":
    main()
