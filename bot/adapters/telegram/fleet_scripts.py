"""The fleet's Lua scripts (`fleet.RedisFleet`), each written out whole.

Every time is Redis's clock (`TIME`, in ms): the one clock the processes share. Each script
touches the keys of one hash slot: a chat's pace key, or the fleet's keys.
"""

from __future__ import annotations

__all__ = ["FLEET_SCRIPT", "HOLD_SCRIPT", "PACE_SCRIPT", "UNBOOK_SCRIPT"]

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
