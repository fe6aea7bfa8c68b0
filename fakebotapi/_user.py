"""A simulated Telegram user who writes to the bot and presses its buttons.

Every action builds the Update JSON a real client would cause (entities for commands, the
bot's stored message inside callback queries, edited_message for edits), appends the user's
message to the chat transcript and delivers the update through the fake server.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fakebotapi._formatting import utf16_len
from fakebotapi._model import (
    JSON,
    Call,
    CallbackRecord,
    FakeChat,
    InlineButton,
    InlineQueryRecord,
    StoredMessage,
)

if TYPE_CHECKING:
    from fakebotapi.fake_bot_api import FakeBotApi

_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,64})?")
REPLY_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})

ButtonSpec = str | Callable[[InlineButton], bool]


class ButtonNotFoundError(LookupError):
    """`press()` found no matching button; the message lists the buttons on offer."""


def command_entities(text: str) -> list[JSON]:
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group()),
        }
        for m in _COMMAND.finditer(text)
    ]


class FakeUser:
    """A person in a private chat (chat id == user id) who can also write in groups."""

    def __init__(
        self,
        api: FakeBotApi,
        user_id: int,
        *,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> None:
        self.api = api
        self.id = user_id
        optional = {"last_name": last_name, "username": username}
        names = {"first_name": first_name, **{k: v for k, v in optional.items() if v}}
        self.json: JSON = {"id": user_id, "is_bot": False, **names}
        if language_code:
            self.json["language_code"] = language_code
        self.chat = api.chats.setdefault(user_id, FakeChat(user_id, "private", names))
        # Per chat: how many calls the bot had made when this user last acted there.
        self._marks: dict[int, int] = {}

    def forget_marks(self) -> None:
        self._marks.clear()

    def _in(self, chat: FakeChat | None) -> FakeChat:
        return self.chat if chat is None else chat

    async def _deliver(self, chat: FakeChat, kind: str, body: JSON) -> JSON:
        update = {"update_id": self.api.new_update_id(), kind: body}
        # Mark before delivering: in webhook mode the bot may answer before the POST returns.
        self._marks[chat.id] = len(self.api.calls)
        await self.api.deliver(update)
        return update

    async def _post(self, chat: FakeChat, **fields: Any) -> JSON:
        message = chat.new_message(from_bot=False, sender=self.json, **fields)
        return await self._deliver(chat, "message", message.to_json())

    # -- writing -----------------------------------------------------------------------------

    async def send_text(
        self, text: str, *, chat: FakeChat | None = None, reply_to: int | None = None
    ) -> JSON:
        """A text message; `/commands` in it get `bot_command` entities like in Telegram."""
        return await self._post(
            self._in(chat), text=text, entities=command_entities(text), reply_to=reply_to
        )

    async def send_command(
        self,
        command: str,
        payload: str | None = None,
        *,
        chat: FakeChat | None = None,
        mention: bool | None = None,
    ) -> JSON:
        """`/start payload`; in groups the command is addressed `/start@bot` by default."""
        target = self._in(chat)
        text = command if command.startswith("/") else f"/{command}"
        if mention if mention is not None else target.type != "private":
            text += f"@{self.api.bot_user['username']}"
        if payload:
            text += f" {payload}"
        return await self.send_text(text, chat=target)

    async def send_sticker(self, emoji: str = "👍", *, chat: FakeChat | None = None) -> JSON:
        sticker = {
            **self._file("sticker", b"RIFF-fake-webp"),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return await self._post(self._in(chat), media={"sticker": sticker})

    async def send_photo(self, caption: str | None = None, *, chat: FakeChat | None = None) -> JSON:
        sizes = [
            {**self._file(f"photo{side}", b"\xff\xd8fake-jpeg"), "width": side, "height": side}
            for side in (90, 800)
        ]
        return await self._post(self._in(chat), media={"photo": sizes}, caption=caption)

    async def send_voice(self, duration: int = 3, *, chat: FakeChat | None = None) -> JSON:
        voice = {
            **self._file("voice", b"OggS-fake"),
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return await self._post(self._in(chat), media={"voice": voice})

    def _file(self, kind: str, content: bytes) -> JSON:
        """Register a downloadable file (getFile + file URL) and return its JSON fields."""
        file_id = f"{kind}-{self.id}-{len(self.api.files) + 1}"
        self.api.files[file_id] = (f"{kind}/{file_id}.bin", content)
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(content)}

    async def edit_last_text(self, new_text: str, *, chat: FakeChat | None = None) -> JSON:
        """Edit this user's newest text message: an `edited_message` update."""
        target = self._in(chat)
        mine = [m for m in target.messages if not m.from_bot and m.sender["id"] == self.id]
        message = next((m for m in reversed(mine) if m.text is not None), None)
        if message is None:
            raise LookupError(f"user {self.id} has no text message in chat {target.id} to edit")
        message.text_history.append(message.text or "")
        message.text, message.entities = new_text, command_entities(new_text)
        message.edit_date, message.edits = int(time.time()), message.edits + 1
        return await self._deliver(target, "edited_message", message.to_json())

    async def block(self) -> JSON:
        """Block the bot: later sends to this chat get 403, and a my_chat_member arrives."""
        self.api.block_user(self.id)
        return await self._member_change("member", "kicked")

    async def unblock(self) -> JSON:
        self.api.unblock_user(self.id)
        return await self._member_change("kicked", "member")

    async def _member_change(self, old: str, new: str) -> JSON:
        bot = self.api.bot_user
        change = {
            "chat": self.chat.to_json(),
            "from": self.json,
            "date": int(time.time()),
            "old_chat_member": {"user": bot, "status": old},
            "new_chat_member": {
                "user": bot,
                "status": new,
                **({"until_date": 0} if new == "kicked" else {}),
            },
        }
        return await self._deliver(self.chat, "my_chat_member", change)

    # -- buttons -----------------------------------------------------------------------------

    def _message(self, chat: FakeChat, message: StoredMessage | int | None) -> StoredMessage:
        if isinstance(message, StoredMessage):
            return message
        found = chat.last_keyboard_message if message is None else chat.get(message)
        if found is None:
            what = (
                "no bot message with an inline keyboard"
                if message is None
                else (f"no visible message {message}")
            )
            raise ButtonNotFoundError(f"{what} in chat {chat.id}:\n{chat.visible_text()}")
        return found

    async def press(
        self,
        button: ButtonSpec,
        *,
        message: StoredMessage | int | None = None,
        chat: FakeChat | None = None,
    ) -> JSON:
        """Press an inline button by exact text (or unique substring) or by predicate.

        Looks on `message`, else on the newest bot message with an inline keyboard.
        """
        target = self._message(self._in(chat), message)
        buttons = target.buttons
        if callable(button):
            matches = [b for b in buttons if button(b)]
        else:
            matches = [b for b in buttons if b.text == button]
            matches = matches or [b for b in buttons if button in b.text]
        if len(matches) != 1:
            offered = "\n".join(f"  {b.describe()}" for b in buttons) or "  (none)"
            problem = "no button matches" if not matches else "several buttons match"
            raise ButtonNotFoundError(
                f"{problem} {button!r} on message {target.message_id} in chat "
                f"{target.chat.id}; buttons:\n{offered}"
            )
        chosen = matches[0]
        if chosen.callback_data is None:
            raise ValueError(f"button {chosen.describe()} sends no callback query")
        return await self.press_data(chosen.callback_data, target)

    async def press_data(
        self, data: str, message: StoredMessage | int, *, chat: FakeChat | None = None
    ) -> JSON:
        """A callback query with arbitrary (possibly forged or stale) data on `message`."""
        target = self._message(self._in(chat), message)
        query_id = self.api.new_callback_id()
        self.api.callbacks[query_id] = CallbackRecord(
            query_id, self.id, target.chat.id, target.message_id, data, time.monotonic()
        )
        query = {
            "id": query_id,
            "from": self.json,
            "message": target.to_json(),
            "chat_instance": str(abs(target.chat.id) * 7919 + 17),  # stable per chat
            "data": data,
        }
        return await self._deliver(target.chat, "callback_query", query)

    async def inline_query(self, query: str = "", *, chat_type: str = "private") -> str:
        """Type `@bot query` in some chat (`chat_type` of the chat it is typed in); returns
        the query's id, for `FakeBotApi.wait_inline_answer`."""
        query_id = self.api.new_callback_id()
        self.api.inline_queries[query_id] = InlineQueryRecord(query_id, self.id, query)
        body = {
            "id": query_id,
            "from": self.json,
            "query": query,
            "offset": "",
            "chat_type": chat_type,
        }
        update = {"update_id": self.api.new_update_id(), "inline_query": body}
        await self.api.deliver(update)
        return query_id

    # -- waiting -----------------------------------------------------------------------------

    async def wait_reply(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper's deadline, like asyncio.wait_for
        *,
        chat: FakeChat | None = None,
        settle: float | None = None,
    ) -> list[StoredMessage]:
        """Wait for the bot's answer to this user's last action in `chat`.

        Returns once the bot has sent or edited at least one message there since the action
        and then made no call for that chat for `settle` seconds (default `api.settle`). The
        messages come back in their current state (later edits applied, deleted ones
        dropped). Raises TimeoutError, with the calls and the transcript, if nothing came.
        """
        target = self._in(chat)
        quiet = self.api.settle if settle is None else settle
        start = self._marks.get(target.id, 0)
        deadline = time.monotonic() + timeout
        await self._answered(target, start, timeout)
        try:
            replies = await self.api.wait_for(
                lambda: self._settled_replies(target.id, start, quiet),
                max(deadline - time.monotonic(), 0.0) + quiet,
            )
        except TimeoutError:  # the bot never went quiet: take what it has said so far
            replies = [
                c
                for c in self.api.calls[start:]
                if c.chat_id == target.id and c.ok and c.method in REPLY_METHODS
            ]
        self._marks[target.id] = len(self.api.calls)
        ids = sorted({c.result["message_id"] for c in replies if isinstance(c.result, dict)})
        return [m for i in ids if (m := target.get(i)) is not None]

    async def _answered(self, chat: FakeChat, start: int, within: float) -> None:
        def answered() -> bool:
            return any(
                c.ok and c.method in REPLY_METHODS and c.chat_id == chat.id
                for c in self.api.calls[start:]
            )

        try:
            await self.api.wait_for(answered, within)
        except TimeoutError:
            since = [
                f"{c.method}(chat={c.chat_id})->{c.status} {c.error or ''}".strip()
                for c in self.api.calls[start:]
            ]
            hooks = [(d.status, d.error) for d in self.api.webhook_responses[-3:]]
            raise TimeoutError(
                f"the bot did not answer user {self.id} in chat {chat.id} within {within}s\n"
                f"calls since the user's last action: {since}\n"
                f"last webhook deliveries: {hooks}\ntranscript:\n{chat.visible_text()}"
            ) from None

    def _settled_replies(self, chat_id: int, start: int, quiet: float) -> list[Call]:
        mine = [c for c in self.api.calls[start:] if c.chat_id == chat_id]
        if any(c.t_done is None for c in mine):
            return []
        last = max((c.t_done or c.t_monotonic for c in mine), default=0.0)
        if time.monotonic() - last < quiet:
            return []
        return [c for c in mine if c.ok and c.method in REPLY_METHODS]
