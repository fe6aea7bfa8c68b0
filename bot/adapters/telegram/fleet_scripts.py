"""The fleet's Lua scripts (`fleet.RedisFleet`), each written out whole.

Every time is Redis's clock (`TIME`, in ms): the one clock the processes share. Each script
touches the keys of one hash slot: a chat's pace key, or the fleet's keys.
"""

from __future__ import annotations

__all__ = ["FLEET_SCRIPT", "FLOOD_SCRIPT", "HOLD_SCRIPT", "PACE_SCRIPT", "UNBOOK_SCRIPT"]

PACE_SCRIPT = """
-- Book one chat's next free moment.
-- KEYS[1]  the chat's pace key: the next free moment, in ms of Redis's clock
-- ARGV[1]  the interval between two messages, in ms
-- ARGV[2]  '1': a moment at most one interval ahead may be booked (the caller hears of
--          every flood wait at once, so it may sleep until then and send); '0': now only
-- Free now: book now. Free within an interval, and ARGV[2] is '1': book that moment. Either
-- way the next free moment becomes the one booked + interval (the key expires then).
-- Returns {ms until the moment booked, the next free moment kept}; {ms until free, 0} when
-- nothing was booked.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local wait = math.max(free - now, 0)
if wait > 0 and (ARGV[2] ~= '1' or wait > interval) then
  return {wait, 0}
end
local next_free = now + wait + interval
redis.call('SET', KEYS[1], string.format('%d', next_free), 'PX', next_free - now)
return {wait, next_free}
"""

UNBOOK_SCRIPT = """
-- Give back a chat's moment its booking does not use: the fleet's answer said wait (it was
-- flooded, or at its cap), or the moment was booked ahead while the fleet is paced as a
-- whole. The chat keeps its place in the queue.
-- KEYS[1]  the chat's pace key
-- ARGV[1]  the next free moment PACE_SCRIPT kept (ms of Redis's clock)
-- ARGV[2]  the interval it added, in ms
-- Only if the key still holds that very moment (not a later hold of the chat): the moment
-- before the booking comes back, or the key goes if that has passed.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local before = tonumber(ARGV[1]) - tonumber(ARGV[2])
if before > now then
  redis.call('SET', KEYS[1], string.format('%d', before), 'PX', before - now)
  return 1
end
return redis.call('DEL', KEYS[1])
"""

FLEET_SCRIPT = """
-- May one more message go now, for the whole fleet? Spends it when it may.
-- KEYS[1]  the flood key: "flooded until", in ms of Redis's clock
-- KEYS[2]  the spend key: the GCRA's theoretical arrival time of all messages, in ms
-- KEYS[3]  the reply cap key: the GCRA's theoretical arrival time of replies, in ms
-- KEYS[4]  the count key: a hash of the second now (s), its messages (c), the last's (p)
-- KEYS[5]  the learnt key: a hash of the pace (messages a second) learnt at the last 429
--          for the whole bot (r) and when (at); it grows again by itself, twice as fast
--          after ARGV[5] ms, three times after twice that, and so on
-- KEYS[6]  the learnt pace key: that GCRA's theoretical arrival time, in ms
-- ARGV[1]  'reply' or 'bulk'
-- ARGV[2]  ms per message of the bulk budget (1000 / the bulk rate)
-- ARGV[3]  ms per reply under the reply cap; 0 when there is no cap
-- ARGV[4]  the burst, in ms: how far ahead of now a GCRA may run (one second's worth)
-- ARGV[5]  the ms in which a learnt pace grows by itself (see KEYS[5])
-- A GCRA lets a message go when its theoretical arrival time is at most burst - step
-- ahead of now, and then moves that time one step on. The learnt pace's has no burst: a
-- message goes only once its time has come (after a flood wait, a second's worth at once
-- on top of the pace would meet the limit again at once).
-- Returns {ms to wait, why}: {0, 'go'}; {0, 'paced'} when it may go but a learnt pace or
-- the reply cap paces the fleet (then no chat's moment should be booked ahead: it would be
-- counted now and sent later, and such messages would bunch); or
-- {ms, 'flood' | 'cap' | 'learnt' | 'bulk'}.
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
  -- A reply is never held by the spend; it only spends it, at most a burst ahead.
  spend = math.min(spend, now + burst)
end
local cap_step = tonumber(ARGV[3])
local cap
if ARGV[1] == 'reply' and cap_step > 0 then
  cap = math.max(tonumber(redis.call('GET', KEYS[3]) or '0'), now)
  if cap - now > burst - cap_step then
    return {cap - now - burst + cap_step, 'cap'}
  end
end
local learnt_rate = tonumber(redis.call('HGET', KEYS[5], 'r') or '0')
local learnt
local learnt_step = 0
if learnt_rate > 0 then
  local at = tonumber(redis.call('HGET', KEYS[5], 'at') or now)
  learnt_rate = learnt_rate * (1 + (now - at) / tonumber(ARGV[5]))
  learnt_step = math.ceil(1000 / learnt_rate)
  learnt = math.max(tonumber(redis.call('GET', KEYS[6]) or '0'), now)
  if learnt > now then
    return {learnt - now, 'learnt'}
  end
  redis.call('SET', KEYS[6], string.format('%d', learnt + learnt_step), 'PX',
    learnt + learnt_step - now)
end
if cap then
  redis.call('SET', KEYS[3], string.format('%d', cap + cap_step), 'PX', cap + cap_step - now)
end
redis.call('SET', KEYS[2], string.format('%d', spend + step), 'PX', spend + step - now)
local second = math.floor(now / 1000)
local kept = tonumber(redis.call('HGET', KEYS[4], 's') or '0')
if kept ~= second then
  local last = 0
  if kept == second - 1 then
    last = tonumber(redis.call('HGET', KEYS[4], 'c') or '0')
  end
  redis.call('HSET', KEYS[4], 's', second, 'c', 0, 'p', last)
end
redis.call('HINCRBY', KEYS[4], 'c', 1)
redis.call('PEXPIRE', KEYS[4], 2000)
if learnt or cap then
  return {0, 'paced'}
end
return {0, 'go'}
"""

FLOOD_SCRIPT = """
-- A 429 for the whole bot: hold every process until its retry_after has passed, and keep
-- to a pace below the one that met it, for a while (Telegram's limit is not told; it is
-- learnt from its 429s, never guessed).
-- KEYS[1]  the flood key: "flooded until", in ms of Redis's clock
-- KEYS[2]  the count key (see FLEET_SCRIPT): messages in this second and the last
-- KEYS[3]  the learnt key (see FLEET_SCRIPT): the pace learnt (r) and when (at)
-- ARGV[1]  the ms to hold from now
-- ARGV[2]  how long the learnt pace is kept after the last 429, in ms
-- ARGV[3]  the share of the pace that met the 429 to keep to, in percent
-- ARGV[4]  the least pace (messages in the last second) a 429 teaches anything at: below
--          it the 429 was not the bot's overall limit, or says too little about it
-- ARGV[5]  the ms in which a learnt pace grows by itself (see FLEET_SCRIPT)
-- ARGV[6]  the fleet's news channel: every process hears "hold for ms" at once
--          (`fleet_news.FloodNews`), not only at its next booking
-- Returns the ms held from now.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local kept = tonumber(redis.call('GET', KEYS[1]) or '0')
local untill = math.max(kept, now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%d', untill), 'PX', untill - now)
redis.call('PUBLISH', ARGV[6], untill - now)
if kept > now then
  return untill - now  -- the same flood wait (requests that were on their way): learnt once
end
local second = math.floor(now / 1000)
local counted = tonumber(redis.call('HGET', KEYS[2], 's') or '0')
-- Messages in the last 1000 ms: this second's, and the last second's share of them.
local rest = 1 - (now % 1000) / 1000
local rate = 0
if counted == second then
  rate = tonumber(redis.call('HGET', KEYS[2], 'c') or '0')
    + tonumber(redis.call('HGET', KEYS[2], 'p') or '0') * rest
elseif counted == second - 1 then
  rate = tonumber(redis.call('HGET', KEYS[2], 'c') or '0') * rest
end
if rate < tonumber(ARGV[4]) then
  return untill - now
end
local learnt = tonumber(redis.call('HGET', KEYS[3], 'r') or '0')
if learnt > 0 then  -- never faster than the pace already learnt, as it has grown since
  local at = tonumber(redis.call('HGET', KEYS[3], 'at') or now)
  rate = math.min(rate, learnt * (1 + (now - at) / tonumber(ARGV[5])))
end
rate = math.max(rate * tonumber(ARGV[3]) / 100, 1)
redis.call('HSET', KEYS[3], 'r', string.format('%.3f', rate), 'at', now)
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return untill - now
"""

HOLD_SCRIPT = """
-- Hold a chat until a 429's retry_after has passed (its own 429).
-- KEYS[1]  the chat's pace key: a moment in ms of Redis's clock
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
