"""The Bot API, faked in-process at PTB's request layer (no HTTP client, no socket).

`FakeRequest.do_request` does the serialisation `HTTPXRequest.do_request` does
(`request_data.multipart_data` and `request_data.json_parameters`) and answers with the JSON
bytes Telegram would send: for sendMessage/editMessageText a Message carrying the text and
the inline keyboard it was sent with, so the next callback query can be built from it.
PTB then parses that reply as usual. Only the HTTP client and the socket are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

__all__ = ["BOT_ID", "BOT_USER", "DATE", "TOKEN", "ChatLog", "FakeApi", "FakeRequest"]

BOT_ID = 123456789
TOKEN = f"{BOT_ID}:AAHbenchbenchbenchbenchbenchbenchbe"
DATE = 1_700_000_000
BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Decree",
    "username": "decree_bench_bot",
}
_BOT_JSON = json.dumps(BOT_USER, separators=(",", ":"))
_GET_ME = json.dumps(
    {
        "ok": True,
        "result": {
            **BOT_USER,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        },
    }
).encode()
_TRUE = b'{"ok":true,"result":true}'
_dumps = json.dumps
#: Keyboards remembered per chat (personas press at most two keyboards back).
KEEP_KEYBOARDS = 3


@dataclass(slots=True)
class ChatLog:
    """What one private chat shows: message ids, texts and keyboards, as Telegram keeps them."""

    chat_id: int
    chat_json: str
    next_id: int = 1
    #: ids of the bot's messages in this chat (what editMessageText may edit)
    messages: set[int] = field(default_factory=set)
    #: the last keyboards shown, oldest first: (message_id, text, reply_markup JSON)
    keyboards: list[tuple[int, str, str]] = field(default_factory=list)
    #: Bot API calls that delivered something to this chat (sends and edits)
    delivered: int = 0

    def new_id(self) -> int:
        mid = self.next_id
        self.next_id += 1
        return mid


class FakeApi:
    """Chats by id, and counters of Bot API calls by method."""

    def __init__(self) -> None:
        self.chats: dict[int, ChatLog] = {}
        self.calls: dict[str, int] = {}

    def chat(self, chat_id: int) -> ChatLog:
        log = self.chats.get(chat_id)
        if log is None:
            chat = {"id": chat_id, "first_name": "User", "type": "private"}
            log = self.chats[chat_id] = ChatLog(chat_id, json.dumps(chat, separators=(",", ":")))
        return log

    def total_calls(self) -> int:
        return sum(self.calls.values())

    # --- answers ------------------------------------------------------------------------

    def _message(
        self, log: ChatLog, mid: int, text: str, markup: str | None, *, edited: bool
    ) -> bytes:
        log.messages.add(mid)
        if markup is not None and '"inline_keyboard"' in markup:
            log.keyboards.append((mid, text, markup))
            if len(log.keyboards) > KEEP_KEYBOARDS:
                del log.keyboards[0]
        log.delivered += 1
        extra = f',"edit_date":{DATE + 1}' if edited else ""
        tail = f',"reply_markup":{markup}' if markup is not None else ""
        return (
            f'{{"ok":true,"result":{{"message_id":{mid},"from":{_BOT_JSON},'
            f'"chat":{log.chat_json},"date":{DATE}{extra},"text":{_dumps(text)}{tail}}}}}'
        ).encode()

    def answer(self, endpoint: str, params: dict[str, str]) -> bytes:
        self.calls[endpoint] = self.calls.get(endpoint, 0) + 1
        if endpoint == "sendMessage":
            log = self.chat(int(params["chat_id"]))
            return self._message(
                log, log.new_id(), params["text"], params.get("reply_markup"), edited=False
            )
        if endpoint == "editMessageText":
            log = self.chat(int(params["chat_id"]))
            mid = int(params["message_id"])
            if mid not in log.messages:
                return (
                    b'{"ok":false,"error_code":400,'
                    b'"description":"Bad Request: message to edit not found"}'
                )
            return self._message(log, mid, params["text"], params.get("reply_markup"), edited=True)
        if endpoint == "getMe":
            return _GET_ME
        return _TRUE  # answerCallbackQuery, setMyCommands, setMyDescription, deleteMessages...


class FakeRequest(BaseRequest):
    """`BaseRequest` answering from a `FakeApi`; the serialisation work is HTTPXRequest's."""

    def __init__(self, api: FakeApi, on_call: Callable[[], None] | None = None) -> None:
        self._api = api
        self._on_call = on_call

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(  # noqa: PLR0917 - PTB's signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        params: dict[str, str] = {}
        if request_data is not None:  # the same serialisation HTTPXRequest.do_request does
            files = request_data.multipart_data
            params = request_data.json_parameters
            del files
        body = self._api.answer(url.rsplit("/", 1)[-1], params)
        return (400 if body.startswith(b'{"ok":false') else 200), body
