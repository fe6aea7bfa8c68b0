"""`ChatService`: load → transition → compare-and-set, atomic per conversation.

One normal update costs one store round trip: the last snapshot this process wrote is kept
in a small cache (a conversation not in it is taken to be new), and the compare-and-set
script checks it is still current. When another
process (or task) got there first, the script answers with the current snapshot and the
transition is computed again from it, so no answer is lost or applied twice. Duplicate
Telegram deliveries are recognised by their `update_id` and dropped.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.conversation import Event, Reply, State, Transition, decode, encode, screen, transition
from bot.conversation.machine import negotiate
from bot.conversation.notice import NoticeRequest
from bot.conversation.replies import Msg
from bot.messages import UNAVAILABLE
from bot.storage import ABSENT, CasStatus, Snapshot, StateStore, StoreUnavailable

__all__ = [
    "DEFAULT_LANGUAGE",
    "WRITING_REPLIES",
    "ChatService",
    "ConflictError",
    "Delivery",
    "Handled",
    "OnChange",
    "Pacing",
]

logger = logging.getLogger(__name__)

#: The language for a person who has not chosen one and whose app gives none we support.
DEFAULT_LANGUAGE = "ru"
#: The replies that follow the compare-and-set in progress, for a store that acts on them
#: (the Telegram adapter's `BookPaceWithWrite` books a chat's pace when one is a new message).
#: Set only for a `Delivery` with `pacing`; empty otherwise.
WRITING_REPLIES: ContextVar[tuple[Reply, ...]] = ContextVar("writing_replies", default=())
#: Told of each change once it is stored: (state before, state after, event, day). For
#: counts that name no one (bot/stats.py); it must not raise, and is not awaited twice.
OnChange = Callable[[State | None, State | None, Event, date], Awaitable[None]]
#: Attempts before giving up on a conversation that keeps changing under us.
MAX_ATTEMPTS = 8
_CACHE_SIZE = 10_000


class ConflictError(RuntimeError):
    """The same conversation changed on every attempt (should not happen in practice)."""


class Pacing(StrEnum):
    """How the replies to a delivery reach the person, for an adapter that paces its
    messages and books the pace with the conversation's write (`WRITING_REPLIES`)."""

    #: Every reply is a new message (typed text, a command).
    NEW_MESSAGES = "new"
    #: A button press: replies marked `edit` replace the pressed message, the rest are new.
    PRESSED = "pressed"


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one event arrived: what the adapter knows besides the event itself."""

    #: The platform's id of the update, to recognise it delivered again (None: not deduplicated).
    update_id: int | None = None
    #: The id of the person's message, remembered as where the conversation starts (/forget).
    message_id: int | None = None
    #: The language the person's app reports, if any: used until one is chosen.
    hint: str | None = None
    #: A delivery of the latest applied update again answers with the current screen (the
    #: process that applied it may have died before replying); otherwise with nothing.
    replay: bool = False
    #: How the replies go out, for an adapter that paces them; None: no pace is booked.
    pacing: Pacing | None = None


@dataclass(frozen=True, slots=True)
class Handled:
    """What to send for one event, and in which language."""

    replies: tuple[Reply, ...]
    lang: str
    #: The step after the event, for logs (a stable id, never an answer).
    step: str | None = None
    #: /forget: delete the chat's messages from this message id on (None: unknown).
    wipe_from: int | None = None
    wipe: bool = False
    duplicate: bool = False
    unavailable: bool = False
    #: The latest update delivered again: `replies` is the current screen, in case the first
    #: reply was lost (to edit into the pressed message; for typed text, to send).
    replay: bool = False
    #: Keep a notice subscription for this chat (the person confirmed the offer).
    subscribe: NoticeRequest | None = None
    #: Delete the chat's notice subscription ("stop these messages").
    unsubscribe: bool = False


class _Cache:
    """The last snapshot written per key, bounded in size and kept no longer than the TTL."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._entries: OrderedDict[str, tuple[float, Snapshot]] = OrderedDict()

    def get(self, key: str) -> Snapshot | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self._entries[key]
            return None
        return entry[1]

    def put(self, key: str, snapshot: Snapshot) -> None:
        self._entries.pop(key, None)
        if snapshot.data is None:
            return
        self._entries[key] = (time.monotonic() + self._ttl, snapshot)
        if len(self._entries) > _CACHE_SIZE:
            self._entries.popitem(last=False)

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)


class ChatService:
    """Runs the conversation engine on a store; adapters call `handle` for each event."""

    def __init__(
        self, *, store: StateStore, ttl_seconds: float, on_change: OnChange | None = None
    ) -> None:
        self._store = store
        self._cache = _Cache(ttl_seconds)
        self.on_change = on_change

    @property
    def store(self) -> StateStore:
        """The store, for health checks."""
        return self._store

    async def handle(self, key: str, event: Event, delivery: Delivery, *, today: date) -> Handled:
        """Apply `event` to the conversation under `key`; never raises for a store outage."""
        try:
            return await self._handle(key, event, delivery, today=today)
        except StoreUnavailable:
            self._cache.drop(key)
            logger.warning("store unavailable")
            lang = negotiate(delivery.hint) or DEFAULT_LANGUAGE
            return Handled((Reply((Msg(UNAVAILABLE),)),), lang, unavailable=True)

    async def language(self, key: str, hint: str | None) -> str:
        """The person's language for a short reply outside the conversation."""
        try:
            snapshot = await self._store.get(key)  # not the cache: it may be another's past
        except StoreUnavailable:
            return negotiate(hint) or DEFAULT_LANGUAGE
        state, _ = decode(snapshot.data)
        return _language(state, None, hint)

    async def forget(self, key: str) -> None:
        """Delete a conversation outright (the person blocked the bot)."""
        self._cache.drop(key)
        await self._store.delete(key)

    async def _handle(self, key: str, event: Event, delivery: Delivery, *, today: date) -> Handled:
        update_id, hint = delivery.update_id, delivery.hint
        replay_id = update_id if delivery.replay else None
        # A press with a turn was answered with the screen one turn on; any other screen
        # (the conversation started afresh) came as a new message, not to be shown twice.
        pressed_turn = getattr(event, "turn", None)
        replay_turn = pressed_turn + 1 if isinstance(pressed_turn, int) else None
        # Not in the cache: most likely someone new, so start from "nothing stored" without
        # reading; if something is stored, the compare-and-set answers with it (one round
        # trip either way, where reading first would cost two).
        snapshot = self._cache.get(key) or ABSENT
        guessed = True  # `snapshot` may not be what the store holds
        for _ in range(MAX_ATTEMPTS):
            if update_id is not None and snapshot.applied(update_id):
                if guessed and replay_id is not None:
                    # Replay only what the store holds: another process may have moved on.
                    guessed, snapshot = False, await self._store.get(key)
                    continue
                return _duplicate(snapshot, hint, today, replay_id=replay_id, turn=replay_turn)
            old, _lost = decode(snapshot.data)
            result = transition(old, event, today=today, hint=hint)
            new = _with_first_message(result.state, delivery.message_id)
            data = encode(new) if new is not None else None
            if data == snapshot.data and (data is None or not guessed):
                if guessed:
                    # Nothing stored as far as we know, and nothing to write: read to be
                    # sure (another process may have started this conversation).
                    guessed, snapshot = False, await self._store.get(key)
                    continue
                # Nothing changed and the store says so: no write.
                return _handled(result, old, hint)
            # A change; or nothing changed (/help, "why") on a cached copy, written again:
            # the compare-and-set checks the copy is current and slides the TTL, in the one
            # round trip a read would have cost. Such a no-op is not recorded for dedupe: a
            # redelivery (its first reply may be lost) is the same no-op, answered again.
            touch = data == snapshot.data
            writing = WRITING_REPLIES.set(result.replies if delivery.pacing else ())
            try:
                written = await self._store.compare_and_set(
                    key,
                    expected=snapshot.version,
                    data=data,
                    update_id=None if touch else update_id,
                )
            finally:
                WRITING_REPLIES.reset(writing)
            self._cache.put(key, written.snapshot)
            guessed = False
            if written.status is CasStatus.OK:
                if self.on_change is not None and not touch:
                    await self.on_change(old, result.state, event, today)
                return _handled(result, old, hint)
            if written.status is CasStatus.DUPLICATE:
                return _duplicate(
                    written.snapshot, hint, today, replay_id=replay_id, turn=replay_turn
                )
            snapshot = written.snapshot  # someone else wrote first: compute again from theirs
        raise ConflictError


def _duplicate(
    snapshot: Snapshot,
    hint: str | None,
    today: date,
    *,
    replay_id: int | None,
    turn: int | None = None,
) -> Handled:
    """An update applied before: no reply, or the current screen if it is `replay_id`, the
    latest applied (a later one would have changed the screen since), and the screen is at
    `turn` when one is given."""
    state, _ = decode(snapshot.data)
    lang = _language(state, None, hint)
    latest = replay_id is not None and snapshot.recent[-1:] == (replay_id,)
    if state is not None and turn is not None and state.turn != turn:
        latest = False
    current = screen(state, today) if latest and state is not None else None
    if current is None or state is None:
        return Handled((), lang, duplicate=True)
    return Handled((current,), lang, state.step.value, duplicate=True, replay=True)


def _with_first_message(state: State | None, message_id: int | None) -> State | None:
    if state is None or state.first_message is not None or message_id is None:
        return state
    return state.starting_at(message_id)


def _language(new: State | None, old: State | None, hint: str | None) -> str:
    for state in (new, old):
        if state is not None and state.lang:
            return state.lang
    return negotiate(hint) or DEFAULT_LANGUAGE


def _handled(result: Transition, old: State | None, hint: str | None) -> Handled:
    step = result.state.step.value if result.state else None
    if result.wipe:
        first = old.first_message if old else None
        return Handled(result.replies, _language(None, old, hint), step, first, wipe=True)
    return Handled(
        result.replies,
        _language(result.state, old, hint),
        step,
        subscribe=result.subscribe,
        unsubscribe=result.unsubscribe,
    )
