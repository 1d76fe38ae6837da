--[[
  Destroys one session.
  keys:  1 the session (hash), 2 expiries (sorted set), 3 last seen (sorted set), 4 creation times
         (hash), 5 counters (hash). The user's index named in the session's x field shares their tag.
  args:  1 the member (HMAC of the id), 2 the user index the session must belong to ('' = any)
  reply: 1 when destroyed, 0 when there was no such session (or it belongs to another user)
]]
local EXP, SEEN, BORN, STATS = KEYS[2], KEYS[3], KEYS[4], KEYS[5]
-- @include session-bookkeeping.lib.lua

local key, member = KEYS[1], ARGV[1]
local f = redis.call('HMGET', key, 'x', 'c')
if not f[2] then
  if redis.call('ZSCORE', EXP, member) then
    finish(member, 'expired')
  end
  return 0
end
if ARGV[2] ~= '' and f[1] ~= ARGV[2] then
  return 0
end
redis.call('DEL', key)
if f[1] ~= '' then
  redis.call('ZREM', f[1], member)
end
finish(member, 'destroyed')
return 1
