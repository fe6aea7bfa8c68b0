"""The fleet's Telegram budget in Redis: what every process of one bot must agree on.

Four things, each a key, each changed only by the Lua scripts below (written out whole):

- **each chat's pace** (`PACE_PREFIX` + the chat's keyed hash, the hash tag of its
  conversation's key): the moment its next message may go. One a second in a private chat,
  twenty a minute in a group (an interval of three seconds). A 429 in that chat moves the
  moment to the end of its `retry_after`. /forget and a block delete the conversation, not
  this key: it ends by its TTL only, so nobody resets their pace by forgetting.
- **the fleet's flood wait** (`FLEET_PREFIX` + a keyed hash of the bot + `:flood`): "flooded
  until T", set by any process that got a 429 for the whole bot. Every process holds its
  messages until T.
- **the fleet's spend** (`…:spend`): every message the fleet sends, as one GCRA at the bulk
  rate (`DECREEBOT_BULK_RATE`, 30/s by default). Replies are never held by it, they only
  spend it; a bulk notice goes only when it has room. So notices always yield to replies,
  and replies plus notices stay within the bulk rate while notices are going out.
- **the learnt pace** (`…:learnt`, `…:pace`, counted in `…:count`): after a 429 for the
  whole bot, the fleet keeps to 90 % of the pace that met it, one message at a time (no
  burst: Telegram counts any one second), growing back by itself (twice as fast after two
  minutes) and forgotten 30 s after the last 429 (each 429 lowers it again), so a surge
  meets Telegram's limit about once every 13 s, not each time a flood wait ends. Each
  429 holds the whole fleet for at least a second (`retry_after` is whole seconds), so
  meeting it seldom is what keeps the fleet near the limit. The limit is learnt from
  Telegram's answers, never guessed.
- **the reply cap** (`…:cap`, `DECREEBOT_REPLY_RATE_CAP`): off unless an operator sets it; then
  a GCRA shared by the fleet that holds replies too.

All times are Redis's clock (`TIME`, in ms): the one clock the processes share. A booking of
a reply is two scripts in one pipeline (one round trip): `FLEET_SCRIPT` on the fleet's keys
(one hash slot) and `PACE_SCRIPT` on the chat's key (the chat's slot), so it works on a
Redis Cluster too. A chat's moment booked while the fleet said wait is given back
(`UNBOOK_SCRIPT`, one more round trip only then), so the chat keeps its place in the queue.
A chat whose pace is busy for a moment has that moment booked at once, and the message
sleeps until then, only while this process hears of every flood wait as it is recorded
(`fleet_news.FloodNews`): a wait that began meanwhile holds the message before it goes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.adapters.telegram.booking import (
    PREBOOKED,
    Booked,
    booked,
    text,
    to_give_back,
)
from bot.adapters.telegram.fleet_news import FloodNews
from bot.adapters.telegram.fleet_scripts import (
    FLEET_SCRIPT,
    FLOOD_SCRIPT,
    HOLD_SCRIPT,
    PACE_SCRIPT,
    UNBOOK_SCRIPT,
)
from bot.storage import KeyMaker
from bot.storage.redis import AnyRedis, run_again, unavailable_as_store_errors

__all__ = [
    "FLEET_SCRIPT",
    "HOLD_SCRIPT",
    "PACE_PREFIX",
    "PACE_SCRIPT",
    "UNBOOK_SCRIPT",
    "RedisFleet",
    "fleet_keys",
]

#: Redis keys of the per-chat pace: the prefix, then the chat's keyed hash.
PACE_PREFIX = "dcb:p:"
#: Redis keys of the fleet: the prefix, then a keyed hash of the bot (a hash tag), the name.
FLEET_PREFIX = "dcb:f:"
#: The "chat" whose keyed hash tags the fleet's keys: Telegram has no chat 0.
_FLEET_CHAT = 0

#: How far ahead of now the fleet's GCRAs may run: a second's worth of messages at once
#: (the bulk budget and the reply cap; the learnt pace allows no burst).
BURST_MS = 1000
#: After a 429 for the whole bot the fleet keeps, for this long (ms; each 429 starts it
#: again), to this share (%) of the pace that met it: Telegram's limit, learnt, not guessed.
LEARNT_MS = 30_000
LEARNT_PERCENT = 90
#: A 429 met at fewer messages than this in the last second teaches nothing: it was not
#: the bot's overall limit (Telegram documents about 30 a second for bulk messages).
LEARN_FROM = 10
#: A learnt pace grows by itself: twice as fast after this many ms, three times after twice
#: (from 90 % back to the pace that met the 429 in 13 s, so 429s stay rare).
GROWS_MS = 120_000


#: After a booking that said the fleet is paced as a whole (a learnt pace, the reply cap) or
#: flooded, no chat's moment is booked ahead for this long (seconds): as long as a learnt
#: pace is kept after a 429 (a surge), when messages booked ahead would bunch.
PACED_SECONDS = 30.0

_FLEET_NAMES = ("flood", "spend", "cap", "count", "learnt", "pace")


def _fleet_base(pace_keys: KeyMaker) -> str:
    return KeyMaker(pace_keys.secret, pace_keys.bot_id, FLEET_PREFIX).for_chat(_FLEET_CHAT)


def fleet_keys(pace_keys: KeyMaker) -> tuple[str, ...]:
    """The fleet's flood, spend, cap, count, learnt and learnt pace keys: one hash slot,
    tagged with a keyed hash of the bot (neither its id nor any chat's appears in a key)."""
    base = _fleet_base(pace_keys)
    return tuple(f"{base}:{name}" for name in _FLEET_NAMES)


def news_channel(pace_keys: KeyMaker) -> str:
    """The channel `FLOOD_SCRIPT` publishes each flood wait on (`fleet_news.FloodNews`)."""
    return f"{_fleet_base(pace_keys)}:news"


class RedisFleet:
    """The fleet's budget on the store's Redis client. Every method raises `StoreUnavailable`
    when Redis cannot be reached."""

    def __init__(
        self,
        client: AnyRedis,
        pace_keys: KeyMaker,
        *,
        bulk_rate: float = 30.0,
        reply_cap: float | None = None,
    ) -> None:
        self._client: Any = client
        self._pace_keys = pace_keys
        self._keys = fleet_keys(pace_keys)
        self._channel = news_channel(pace_keys)
        self._news: FloodNews | None = None
        self._paced_at = float("-inf")  # when a booking last said the fleet is paced
        self._pace = client.register_script(PACE_SCRIPT)
        self._fleet = client.register_script(FLEET_SCRIPT)
        self._hold = client.register_script(HOLD_SCRIPT)
        self._flood_script = client.register_script(FLOOD_SCRIPT)
        self._unbook = client.register_script(UNBOOK_SCRIPT)
        self._bulk_step = str(max(1, round(1000 / bulk_rate)))
        self._cap_step = str(round(1000 / reply_cap) if reply_cap else 0)

    def pace_key(self, chat_id: int) -> str:
        return self._pace_keys.for_chat(chat_id)

    def hear_floods(self, on_flood: Callable[[float], None]) -> None:
        """Hear each flood wait the moment any process records one (`on_flood(seconds)`);
        from then on a chat's busy moment may be booked ahead."""
        if self._news is None:
            self._news = FloodNews(self._client, self._channel, on_flood)
            self._news.start()

    async def close(self) -> None:
        if self._news is not None:
            await self._news.close()
            self._news = None

    def pace_args(self, interval_ms: str) -> list[str]:
        """`PACE_SCRIPT`'s arguments: the interval, and whether a moment ahead may be booked
        (only while every flood wait is heard of at once)."""
        ahead = self._news is not None and self._news.live
        paced = time.monotonic() - self._paced_at < PACED_SECONDS
        return [interval_ms, "1" if ahead and not paced else "0"]

    def fleet_args(self, kind: str = "reply") -> tuple[list[str], list[str]]:
        """`FLEET_SCRIPT`'s keys and arguments (also for a pipeline of someone else's)."""
        return list(self._keys), [
            kind,
            self._bulk_step,
            self._cap_step,
            str(BURST_MS),
            str(GROWS_MS),
        ]

    @property
    def fleet_sha(self) -> str:
        return str(self._fleet.sha)

    @property
    def pace_sha(self) -> str:
        return str(self._pace.sha)

    async def book(self, chat_id: int, interval: float) -> Booked:
        """A reply's moment: the fleet's (flood wait, reply cap) and the chat's pace, booked
        together in one round trip (none when its conversation's write booked it a moment
        ago: `pace.BookPaceWithWrite`)."""
        pace_key, ms = self.pace_key(chat_id), str(round(interval * 1000))
        prebooked = PREBOOKED.take(pace_key)
        if prebooked is not None:
            return Booked(prebooked, "reserved") if prebooked > 0 else Booked(0.0)
        keys, args = self.fleet_args("reply")
        pace_args = self.pace_args(ms)
        async with unavailable_as_store_errors():
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.evalsha(self._fleet.sha, len(keys), *keys, *args)
                pipe.evalsha(self._pace.sha, 1, pace_key, *pace_args)
                fleet, pace = await pipe.execute(raise_on_error=False)
            fleet = await run_again(self._client, fleet, FLEET_SCRIPT, keys, args)
            pace = await run_again(self._client, pace, PACE_SCRIPT, [pace_key], pace_args)
            for reply in (fleet, pace):
                if isinstance(reply, Exception):
                    raise reply
            answer = self.heard(fleet, pace)
            moment = to_give_back(answer, pace)
            if moment:
                await self.unbook(pace_key, moment, ms)
        return answer

    def heard(self, fleet: Any, pace: Any) -> Booked:
        """A reply's booking (`booked`); once the fleet is paced as a whole or flooded, no
        moment is booked ahead for a while (`PACED_SECONDS`)."""
        if text(fleet[1]) in ("paced", "flood", "learnt", "cap"):
            self._paced_at = time.monotonic()
        return booked(fleet, pace)

    async def unbook(self, pace_key: str, moment: int, interval_ms: str) -> None:
        """Give back a chat's moment the booking does not use: the fleet said wait, or it was
        booked ahead while the fleet is paced (only then: one more round trip)."""
        async with unavailable_as_store_errors():
            await self._unbook(keys=[pace_key], args=[moment, interval_ms])

    async def bulk(self) -> Booked:
        """A bulk message's moment (a notice): 0.0 when it may go now (and is spent)."""
        keys, args = self.fleet_args("bulk")
        async with unavailable_as_store_errors():
            reply = await self._fleet(keys=keys, args=args)
        return Booked(int(reply[0]) / 1000, text(reply[1]))

    async def hold_fleet(self, seconds: float) -> float:
        """Every process holds its messages for `seconds` (a 429 for the whole bot)."""
        async with unavailable_as_store_errors():
            flood, _, _, count, learnt, _ = self._keys
            held = await self._flood_script(
                keys=[flood, count, learnt],
                args=[
                    round(seconds * 1000),
                    LEARNT_MS,
                    LEARNT_PERCENT,
                    LEARN_FROM,
                    GROWS_MS,
                    self._channel,
                ],
            )
        return int(held) / 1000

    async def hold_chat(self, chat_id: int, seconds: float) -> float:
        """The chat's next message waits `seconds` in every process (a 429 in that chat)."""
        async with unavailable_as_store_errors():
            held = await self._hold(keys=[self.pace_key(chat_id)], args=[round(seconds * 1000)])
        return int(held) / 1000
