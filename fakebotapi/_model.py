"""Plain data kept by the fake Bot API: recorded calls, chats and their transcripts.

Nothing in here talks to the network; `fake_bot_api` fills these objects and tests read them.
The rate-limit accounting is a pure function over recorded calls so it can be tested alone.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

# What counts as "an outgoing message" for Telegram's flood limits. Edits are tallied apart:
# Telegram does not document an edit limit, but bursts of edits do earn 429s in practice.
SEND_METHODS = frozenset({"sendMessage"})
EDIT_METHODS = frozenset({"editMessageText", "editMessageReplyMarkup"})


class ApiError(Exception):
    """A Bot API failure: becomes `{"ok": false, "error_code": ..., "description": ...}`."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(slots=True)
class Call:
    """One HTTP request the bot made. `status` is None while the request is still in flight."""

    method: str
    params: JSON
    chat_id: int | str | None
    t_monotonic: float
    status: int | None = None
    result: Any = None
    error: str | None = None
    retry_after: int | None = None
    t_done: float | None = None
    #: Sent during a flood wait the bot had already been told of (a violation).
    in_flood: bool = False
    #: Why the fake answered 429: "overall", "chat", "group", "flood" (again during a known
    #: wait) or "fault" (injected); None otherwise.
    limit: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def rejected(self) -> bool:
        return self.status is not None and self.status != 200


@dataclass(frozen=True, slots=True)
class InlineButton:
    """One inline keyboard button, flattened with its position."""

    text: str
    row: int
    col: int
    raw: JSON

    @property
    def callback_data(self) -> str | None:
        value = self.raw.get("callback_data")
        return value if isinstance(value, str) else None

    @property
    def url(self) -> str | None:
        value = self.raw.get("url")
        return value if isinstance(value, str) else None

    def describe(self) -> str:
        action = {k: v for k, v in self.raw.items() if k != "text"}
        return f"[{self.text}] {action}"


@dataclass(slots=True)
class StoredMessage:
    """A message as the chat participants see it now (edits applied)."""

    chat: FakeChat = field(repr=False)
    message_id: int
    from_bot: bool
    sender: JSON
    date: int
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    media: JSON = field(default_factory=dict)  # e.g. {"photo": [...]}, merged into the JSON
    caption: str | None = None
    reply_to: int | None = None
    edit_date: int | None = None
    edits: int = 0
    deleted: bool = False
    text_history: list[str] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def keyboard(self) -> list[list[InlineButton]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            [InlineButton(str(b.get("text", "")), r, c, b) for c, b in enumerate(row)]
            for r, row in enumerate(rows)
        ]

    @property
    def buttons(self) -> list[InlineButton]:
        return [button for row in self.keyboard for button in row]

    def to_json(self) -> JSON:
        """The Message object Telegram would send: the bot's result or a user's update."""
        body: JSON = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat.to_json(),
            "date": self.date,
        }
        if self.text is not None:
            body["text"] = self.text
            if self.entities:
                body["entities"] = self.entities
        body.update(self.media)
        if self.caption is not None:
            body["caption"] = self.caption
        if self.edit_date is not None:
            body["edit_date"] = self.edit_date
        if self.reply_to is not None and (target := self.chat.get(self.reply_to)) is not None:
            # Telegram nests the replied-to message one level deep, without its own reply.
            nested = target.to_json()
            nested.pop("reply_to_message", None)
            body["reply_to_message"] = nested
        # Only inline keyboards travel with the message; reply keyboards are chat state.
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            body["reply_markup"] = self.reply_markup
        return body

    def render(self) -> str:
        who = "bot" if self.from_bot else "user"
        body = self.text if self.text is not None else self.caption or ""
        kind = next(iter(self.media), None)
        head = f"{who}: " + (f"<{kind}> " if kind else "") + body
        rows = [" ".join(f"[{b.text}]" for b in row) for row in self.keyboard]
        return "\n".join([head, *(f"    {row}" for row in rows)])


@dataclass(slots=True)
class FakeChat:
    """A private chat or a group, with a transcript of the messages still visible in it."""

    id: int
    type: str
    info: JSON
    bot_is_admin: bool = True
    reply_keyboard: JSON | None = None
    last_action: str | None = None
    _messages: dict[int, StoredMessage] = field(default_factory=dict, repr=False)
    _next_id: int = field(default=1, repr=False)

    def to_json(self) -> JSON:
        return {"id": self.id, "type": self.type, **self.info}

    def new_message(self, *, from_bot: bool, sender: JSON, **fields: Any) -> StoredMessage:
        message = StoredMessage(
            chat=self,
            message_id=self._next_id,
            from_bot=from_bot,
            sender=sender,
            date=int(time.time()),
            **fields,
        )
        self._next_id += 1
        self._messages[message.message_id] = message
        return message

    def get(self, message_id: int) -> StoredMessage | None:
        message = self._messages.get(message_id)
        return None if message is None or message.deleted else message

    @property
    def all_messages(self) -> list[StoredMessage]:
        """Everything ever posted, deleted messages included (flag `deleted`)."""
        return list(self._messages.values())

    @property
    def messages(self) -> list[StoredMessage]:
        return [m for m in self._messages.values() if not m.deleted]

    @property
    def bot_messages(self) -> list[StoredMessage]:
        return [m for m in self.messages if m.from_bot]

    @property
    def last_bot_message(self) -> StoredMessage | None:
        bot_messages = self.bot_messages
        return bot_messages[-1] if bot_messages else None

    @property
    def last_keyboard_message(self) -> StoredMessage | None:
        """The newest visible bot message that carries an inline keyboard."""
        return next((m for m in reversed(self.bot_messages) if m.buttons), None)

    def visible_text(self) -> str:
        """The transcript as plain text: one `bot: ...`/`user: ...` block per message."""
        return "\n".join(m.render() for m in self.messages)


@dataclass(slots=True)
class CallbackRecord:
    """A callback query the simulated user produced, and whether the bot answered it."""

    id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    t_monotonic: float
    answer: JSON | None = None


@dataclass(slots=True)
class InlineQueryRecord:
    """An inline query the simulated user typed, and the bot's answer (its `results` list
    and options) once it came."""

    id: str
    user_id: int
    query: str
    answer: JSON | None = None


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One POST of an update to the bot's webhook; `status` None means no HTTP answer."""

    update_id: int | None
    attempt: int
    status: int | None
    error: str | None
    secret: str | None
    t_monotonic: float


@dataclass(frozen=True, slots=True)
class RateReport:
    """Flood-limit violations found in the recorded calls (see `count_rate_violations`)."""

    per_chat: int
    per_chat_edits: int
    overall: int
    group_per_minute: int
    chats: dict[int | str, int]

    @property
    def total(self) -> int:
        """Violations of Telegram's documented limits (edits are informational)."""
        return self.per_chat + self.overall + self.group_per_minute


def _excess(times: Iterable[float], window: float, limit: int) -> int:
    """How many events found more than `limit` events (itself included) in the window before."""
    recent: deque[float] = deque()
    over = 0
    for t in sorted(times):
        while recent and recent[0] <= t - window:
            recent.popleft()
        recent.append(t)
        if len(recent) > limit:
            over += 1
    return over


def count_rate_violations(
    calls: Iterable[Call],
    *,
    per_chat_per_second: int = 1,
    overall_per_second: int = 30,
    group_per_minute: int = 20,
) -> RateReport:
    """Count flood-limit violations by arrival time, in sliding windows.

    Only calls the fake accepted are counted (a rejected call sent nothing, and its retry is
    counted when it succeeds). `sendMessage` is an outgoing message; `editMessage*` calls are
    counted separately per chat with the same 1-per-second limit; deletions are not counted.
    A call violates a limit when, counting itself, the window ending at its arrival holds more
    calls than the limit: two sends to one chat 0.5 s apart give one per-chat violation.
    Groups (negative chat ids) are also held to `group_per_minute` sends per 60 s.
    """
    sends: dict[int | str, list[float]] = defaultdict(list)
    edits: dict[int | str, list[float]] = defaultdict(list)
    for call in calls:
        if not call.ok or call.chat_id is None:
            continue
        if call.method in SEND_METHODS:
            sends[call.chat_id].append(call.t_monotonic)
        elif call.method in EDIT_METHODS:
            edits[call.chat_id].append(call.t_monotonic)
    chats = {chat: _excess(ts, 1.0, per_chat_per_second) for chat, ts in sends.items()}
    groups = [ts for chat, ts in sends.items() if isinstance(chat, int) and chat < 0]
    return RateReport(
        per_chat=sum(chats.values()),
        per_chat_edits=sum(_excess(ts, 1.0, per_chat_per_second) for ts in edits.values()),
        overall=_excess((t for ts in sends.values() for t in ts), 1.0, overall_per_second),
        group_per_minute=sum(_excess(ts, 60.0, group_per_minute) for ts in groups),
        chats={chat: n for chat, n in chats.items() if n},
    )
