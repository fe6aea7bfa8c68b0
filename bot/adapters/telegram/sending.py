"""`SendingBot`: PTB's `ExtBot`, plus the three calls the handlers make on every update.

PTB's `send_message` and `edit_message_text` turn Telegram's answer into a `Message`, with
its keyboard rebuilt button by button, and nothing here reads it: that parsing cost more
than our own work for the update. These calls use PTB's public `Bot.do_api_request` with no
return type, which goes the same way through PTB (the rate limiter, the request, error mapping
to `BadRequest`, `Forbidden`, `RetryAfter`) and returns Telegram's raw answer unparsed.

PTB `Defaults` do not apply to these calls (`do_api_request` documents that); the bot sets
none, and `build_application` refuses an application that has them.
"""

from __future__ import annotations

import warnings
from typing import Any

from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

__all__ = ["SendingBot"]

# do_api_request suggests PTB's own method for endpoints it wraps; here that is the point.
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.(sendMessage|editMessageText|answerCallbackQuery)'",
    category=PTBUserWarning,
)


class SendingBot(ExtBot[str]):
    """`ExtBot` with `send_text`, `edit_text` and `answer_query`, which return nothing."""

    async def send_text(
        self,
        chat_id: int,
        text: str,
        markup: str | None = None,
        *,
        rate_limit_args: str | None = None,
    ) -> None:
        """sendMessage; `markup` is the inline keyboard already serialised (JSON);
        `rate_limit_args` tells the throttle a bulk message (`throttle.BULK`)."""
        data: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if markup is not None:
            data["reply_markup"] = markup
        await self.do_api_request("sendMessage", data, rate_limit_args=rate_limit_args)

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, markup: str | None = None
    ) -> None:
        """editMessageText of one of the bot's messages in a chat."""
        data: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id, "text": text}
        if markup is not None:
            data["reply_markup"] = markup
        await self.do_api_request("editMessageText", data)

    async def answer_query(self, query_id: str, toast: str | None = None) -> None:
        """answerCallbackQuery: the phone stops its spinner, and shows `toast` if given."""
        data: dict[str, Any] = {"callback_query_id": query_id}
        if toast is not None:
            data["text"] = toast
        await self.do_api_request("answerCallbackQuery", data)
