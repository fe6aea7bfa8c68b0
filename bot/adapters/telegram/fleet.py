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
- **the reply cap** (`…:cap`, `DECREEBOT_REPLY_RATE_CAP`): off unless an operator sets it; then
  a GCRA shared by the fleet that holds replies too.

All times are Redis's clock (`TIME`, in ms): the one clock the processes share. A booking of
a reply is two scripts in one pipeline (one round trip): `FLEET_SCRIPT` on the fleet's keys
(one hash slot) and `PACE_SCRIPT` on the chat's key (the chat's slot), so it works on a
Redis Cluster too. A chat's moment booked while the fleet said wait is given back
(`UNBOOK_SCRIPT`, one more round trip only then), so the chat keeps its place in the queue.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from redis import exceptions as redis_errors

from bot.storage import KeyMaker
from bot.storage.redis import AnyRedis, unavailable_as_store_errors

__all__ = [
    "FLEET_SCRIPT",
    "HOLD_SCRIPT",
    "PACE_PREFIX",
    "PACE_SCRIPT",
    "PREBOOKED",
    "UNBOOK_SCRIPT",
    "Booked",
    "RedisFleet",
    "fleet_keys",
]

#: Redis keys of the per-chat pace: the prefix, then the chat's keyed hash.
PACE_PREFIX = "dcb:p:"
#: Redis keys of the fleet: the prefix, then a keyed hash of the bot (a hash tag), the name.
FLEET_PREFIX = "dcb:f:"
#: The "chat" whose keyed hash tags the fleet's keys: Telegram has no chat 0.
_FLEET_CHAT = 0

PACE_SCRIPT = """
-- Book this moment in one chat's pace, if it is free.
-- KEYS[1]  the chat's pace key: the next free moment, in ms of Redis's clock
-- ARGV[1]  the interval between two messages, in ms
-- Free: book now (the next free moment becomes now + interval, and the key expires then)
-- and return minus that moment (<= 0: booked). Busy: book nothing and return the ms until
-- it is free (> 0).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
if free > now then
  return free - now
end
local booked = now + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', booked), 'PX', ARGV[1])
return -booked
"""

UNBOOK_SCRIPT = """
-- Give back a chat's moment booked together with a fleet's answer that said wait (the
-- fleet was flooded, or at its cap): the chat keeps its place in the queue.
-- KEYS[1]  the chat's pace key
-- ARGV[1]  the moment PACE_SCRIPT booked (ms of Redis's clock)
-- Deleted only if it still holds that very moment (not a later hold of the chat).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

FLEET_SCRIPT = """
-- May one more message go now, for the whole fleet? Spends it when it may.
-- KEYS[1]  the flood key: "flooded until", in ms of Redis's clock
-- KEYS[2]  the spend key: the GCRA's theoretical arrival time of all messages, in ms
-- KEYS[3]  the reply cap key: the GCRA's theoretical arrival time of replies, in ms
-- ARGV[1]  'reply' or 'bulk'
-- ARGV[2]  ms per message of the bulk budget (1000 / the bulk rate)
-- ARGV[3]  ms per reply under the reply cap; 0 when there is no cap
-- ARGV[4]  the burst, in ms: how far ahead of now a GCRA may run (one second's worth)
-- A GCRA lets a message go when its theoretical arrival time is at most burst - step
-- ahead of now, and then moves that time one step on.
-- Returns {ms to wait, why}: {0, 'go'}, {ms, 'flood'}, {ms, 'cap'} or {ms, 'bulk'}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local flood = tonumber(redis.call('GET', KEYS[1]) or '0')
if flood > now then
  return {flood - now, 'flood'}
end
local step = tonumber(ARGV[2])
local burst = tonumber(ARGV[4])
local spend = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'), now)
if ARGV[1] == 'bulk' then
  if spend - now > burst - step then
    return {spend - now - burst + step, 'bulk'}
  end
else
  local cap_step = tonumber(ARGV[3])
  if cap_step > 0 then
    local cap = math.max(tonumber(redis.call('GET', KEYS[3]) or '0'), now)
    if cap - now > burst - cap_step then
      return {cap - now - burst + cap_step, 'cap'}
    end
    redis.call('SET', KEYS[3], string.format('%d', cap + cap_step), 'PX', cap + cap_step - now)
  end
  -- A reply is never held by the spend; it only spends it, at most a burst ahead.
  spend = math.min(spend, now + burst)
end
redis.call('SET', KEYS[2], string.format('%d', spend + step), 'PX', spend + step - now)
return {0, 'go'}
"""

HOLD_SCRIPT = """
-- Hold a chat, or the whole fleet, until a 429's retry_after has passed.
-- KEYS[1]  the chat's pace key or the fleet's flood key: a moment in ms of Redis's clock
-- ARGV[1]  the ms to hold from now
-- The later of the moment kept and now + ARGV[1] is kept, with a TTL that ends then.
-- Returns the ms held from now.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local kept = tonumber(redis.call('GET', KEYS[1]) or '0')
local untill = math.max(kept, now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%d', untill), 'PX', untill - now)
return untill - now
"""

#: How far ahead of now the fleet's GCRAs may run: a second's worth of messages at once.
BURST_MS = 1000


def fleet_keys(pace_keys: KeyMaker) -> tuple[str, str, str]:
    """The fleet's flood, spend and cap keys: one hash slot, tagged with a keyed hash of the
    bot (neither its id nor any chat's appears in a key)."""
    base = KeyMaker(pace_keys.secret, pace_keys.bot_id, FLEET_PREFIX).for_chat(_FLEET_CHAT)
    return base + ":flood", base + ":spend", base + ":cap"


@dataclass(frozen=True, slots=True)
class Booked:
    """A booking's answer: 0.0 when the message may go now (and is booked), else the seconds
    to wait and why ("flood", "cap", "bulk" or "chat")."""

    wait: float
    why: str = "go"


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
        self._flood, self._spend, self._cap = fleet_keys(pace_keys)
        self._pace = client.register_script(PACE_SCRIPT)
        self._fleet = client.register_script(FLEET_SCRIPT)
        self._hold = client.register_script(HOLD_SCRIPT)
        self._unbook = client.register_script(UNBOOK_SCRIPT)
        self._bulk_step = str(max(1, round(1000 / bulk_rate)))
        self._cap_step = str(round(1000 / reply_cap) if reply_cap else 0)

    def pace_key(self, chat_id: int) -> str:
        return self._pace_keys.for_chat(chat_id)

    def fleet_args(self, kind: str = "reply") -> tuple[list[str], list[str]]:
        """`FLEET_SCRIPT`'s keys and arguments (also for a pipeline of someone else's)."""
        return [self._flood, self._spend, self._cap], [
            kind,
            self._bulk_step,
            self._cap_step,
            str(BURST_MS),
        ]

    @property
    def fleet_sha(self) -> str:
        return str(self._fleet.sha)

    @property
    def pace_sha(self) -> str:
        return str(self._pace.sha)

    async def load_scripts(self) -> None:
        """Load the scripts (after NOSCRIPT: Redis restarted and flushed them)."""
        for script in (PACE_SCRIPT, FLEET_SCRIPT, HOLD_SCRIPT, UNBOOK_SCRIPT):
            await self._client.script_load(script)

    async def book(self, chat_id: int, interval: float) -> Booked:
        """A reply's moment: the fleet's (flood wait, reply cap) and the chat's pace, booked
        together in one round trip (none when its conversation's write booked it a moment
        ago: `pace.BookPaceWithWrite`)."""
        pace_key, ms = self.pace_key(chat_id), str(round(interval * 1000))
        if PREBOOKED.take(pace_key):
            return Booked(0.0)
        keys, args = self.fleet_args("reply")
        async with unavailable_as_store_errors():
            for attempt in range(2):
                async with self._client.pipeline(transaction=False) as pipe:
                    pipe.evalsha(self._fleet.sha, len(keys), *keys, *args)
                    pipe.evalsha(self._pace.sha, 1, pace_key, ms)
                    fleet, pace = await pipe.execute(raise_on_error=False)
                if not any(isinstance(r, redis_errors.NoScriptError) for r in (fleet, pace)):
                    break
                if attempt:
                    raise fleet if isinstance(fleet, Exception) else pace
                await self.load_scripts()
            for reply in (fleet, pace):
                if isinstance(reply, Exception):
                    raise reply
            answer = booked(fleet, pace)
            if answer.wait > 0 and int(pace) < 0:
                await self.unbook(pace_key, -int(pace))
        return answer

    async def unbook(self, pace_key: str, moment: int) -> None:
        """Give back the chat's moment booked with a fleet's answer that said wait (only
        then: one more round trip, while the fleet waits anyway)."""
        async with unavailable_as_store_errors():
            await self._unbook(keys=[pace_key], args=[moment])

    async def bulk(self) -> Booked:
        """A bulk message's moment (a notice): 0.0 when it may go now (and is spent)."""
        keys, args = self.fleet_args("bulk")
        async with unavailable_as_store_errors():
            reply = await self._fleet(keys=keys, args=args)
        return Booked(int(reply[0]) / 1000, _text(reply[1]))

    async def hold_fleet(self, seconds: float) -> float:
        """Every process holds its messages for `seconds` (a 429 for the whole bot)."""
        async with unavailable_as_store_errors():
            held = await self._hold(keys=[self._flood], args=[round(seconds * 1000)])
        return int(held) / 1000

    async def hold_chat(self, chat_id: int, seconds: float) -> float:
        """The chat's next message waits `seconds` in every process (a 429 in that chat)."""
        async with unavailable_as_store_errors():
            held = await self._hold(keys=[self.pace_key(chat_id)], args=[round(seconds * 1000)])
        return int(held) / 1000


#: A booking made with a write is used by the message it was made for only if that goes
#: within this many seconds (the throttle's margin): else the chat's pace could shrink.
_FRESH_SECONDS = 0.1


class _Prebooked:
    """Replies booked with a conversation's write a moment ago, by pace key, in this process
    (`pace.BookPaceWithWrite`): `RedisFleet.book` takes one instead of a round trip."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}

    def put(self, key: str) -> None:
        now = time.monotonic()
        self._at = {k: t for k, t in self._at.items() if now - t < _FRESH_SECONDS}
        self._at[key] = now

    def take(self, key: str) -> bool:
        at = self._at.pop(key, None)
        return at is not None and time.monotonic() - at < _FRESH_SECONDS


PREBOOKED = _Prebooked()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def booked(fleet: Any, pace: Any) -> Booked:
    """One booking's answer from the replies of `FLEET_SCRIPT` and `PACE_SCRIPT`."""
    fleet_ms, why = int(fleet[0]), _text(fleet[1])
    if fleet_ms > 0:
        return Booked(fleet_ms / 1000, why)
    if int(pace) > 0:  # busy; <= 0: booked (minus the moment booked)
        return Booked(int(pace) / 1000, "chat")
    return Booked(0.0)
