"""The fake Bot API with a per-chat index of the bot's calls, so thousands of simulated people
can wait for their replies without each scanning every call the bot makes."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex

import httpx

from fakebotapi import (
    CONFIGURED_SECRET,
    Call,
    CallbackRecord,
    FakeBotApi,
    FakeUser,
    StoredMessage,
)
from fakebotapi._updates import SecretDefault

__all__ = ["REPLY_METHODS", "SoakApi", "callback_update"]

#: Calls that show the person something: a new message or an edited one.
REPLY_METHODS = frozenset({"sendMessage", "editMessageText"})
#: Seconds the fake waits for the webhook's answer before it delivers the update again. The
#: fake's own default (5 s) suits tests; Telegram waits far longer, and with thousands of
#: people at once the bot's answer can wait several seconds for Telegram's rate limits.
WEBHOOK_TIMEOUT = 60.0


class _IndexedCalls(list[Call]):
    """The fake's call log; every appended call is also handed to `on_append`."""

    def __init__(self, on_append: Callable[[Call], None]) -> None:
        super().__init__()
        self._on_append = on_append

    def append(self, call: Call, /) -> None:
        super().append(call)
        self._on_append(call)

    def extend(self, calls: Iterable[Call], /) -> None:
        for call in calls:
            self.append(call)

    def insert(self, index: SupportsIndex, call: Call, /) -> None:
        super().insert(index, call)
        self._on_append(call)


class SoakApi(FakeBotApi):
    """`FakeBotApi` that also files each call under its chat and wakes that chat's waiters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.by_chat: dict[int | str | None, list[Call]] = defaultdict(list)
        self._wakers: dict[int | str | None, asyncio.Event] = {}
        self.calls = _IndexedCalls(self._filed)
        self.updates_sent = 0
        self.started = time.monotonic()

    async def deliver(self, update: dict[str, Any]) -> int | None:
        """Deliver an update (counted)."""
        self.updates_sent += 1
        return await super().deliver(update)

    async def deliver_raw(
        self, update: dict[str, Any], *, secret: str | SecretDefault | None = CONFIGURED_SECRET
    ) -> int | None:
        """Deliver an arbitrary update as it is (counted)."""
        self.updates_sent += 1
        return await super().deliver_raw(update, secret=secret)

    async def start(self) -> SoakApi:
        """Start, with a webhook client as patient as Telegram (see `WEBHOOK_TIMEOUT`)."""
        await super().start()
        quick = self.updates._client
        self.updates._client = httpx.AsyncClient(
            trust_env=False, timeout=httpx.Timeout(WEBHOOK_TIMEOUT)
        )
        if quick is not None:
            await quick.aclose()
        return self

    def _filed(self, call: Call) -> None:
        self.by_chat[call.chat_id].append(call)
        self._wake(call.chat_id)

    def _wake(self, chat: int | str | None) -> None:
        event = self._wakers.pop(chat, None)
        if event is not None:
            event.set()

    async def dispatch(
        self, token: str, name: str, params: dict[str, Any], closed: asyncio.Event
    ) -> tuple[int, dict[str, Any]]:
        """The fake's dispatch; then the chat's waiters learn that a call has finished."""
        answer = await super().dispatch(token, name, params, closed)
        method = self._canonical.get(name.lower(), name)
        self._wake(self._call_chat(method, params))
        return answer

    def mark(self, chat: int) -> int:
        """A position in the chat's calls: later calls are the answer to what comes next."""
        return len(self.by_chat[chat])

    def replies_since(self, chat: int, mark: int) -> list[Call]:
        """Successful sends and edits in the chat since `mark`."""
        return [c for c in self.by_chat[chat][mark:] if c.ok and c.method in REPLY_METHODS]

    def busy(self, chat: int, mark: int) -> bool:
        """Whether a call for the chat since `mark` is still in flight."""
        return any(c.status is None for c in self.by_chat[chat][mark:])

    async def changed(self, chat: int, within: float) -> None:
        """Return when a call for `chat` starts or finishes, or after `within` seconds."""
        event = self._wakers.get(chat)
        if event is None:
            event = self._wakers[chat] = asyncio.Event()
        try:
            await asyncio.wait_for(event.wait(), max(within, 0.0))
        except TimeoutError:
            return

    async def replies(
        self, chat: int, mark: int, *, within: float, settle: float = 0.03
    ) -> list[Call]:
        """Wait for at least one reply since `mark` and then `settle` seconds of quiet.

        Returns whatever came within `within` seconds (an empty list: nothing came).
        """
        deadline = time.monotonic() + within
        while True:
            now = time.monotonic()
            found = self.replies_since(chat, mark)
            calls = self.by_chat[chat][mark:]
            last = max((c.t_done or c.t_monotonic for c in calls), default=0.0)
            if found and not self.busy(chat, mark) and now - last >= settle:
                return found
            if now >= deadline:
                return found
            wait = settle - (now - last) if found and not self.busy(chat, mark) else 0.25
            await self.changed(chat, min(max(wait, 0.005), deadline - now))


def callback_update(
    api: FakeBotApi, user: FakeUser, message: StoredMessage, data: str
) -> dict[str, Any]:
    """The update Telegram sends when `user` presses a button with `data` on `message`.

    Built without delivering it, so the very same update can be delivered twice at once.
    """
    query_id = api.new_callback_id()
    api.callbacks[query_id] = CallbackRecord(
        query_id, user.id, message.chat.id, message.message_id, data, time.monotonic()
    )
    return {
        "update_id": api.new_update_id(),
        "callback_query": {
            "id": query_id,
            "from": user.json,
            "message": message.to_json(),
            "chat_instance": str(abs(message.chat.id) * 7919 + 17),
            "data": data,
        },
    }
