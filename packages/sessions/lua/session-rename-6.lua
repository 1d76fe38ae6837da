--[[
  Regenerates a session: moves it to a new member (a new id) with a new value, keeping its creation
  time, absolute expiry, idle timeout and user, and removes the old one, atomically.
  keys:  1 the old session (hash), 2 the new session (hash), 3 expiries (sorted set), 4 last seen
         (sorted set), 5 creation times (hash), 6 counters (hash). The user's index named in the
         session's x field shares their tag.
  args:  1 old member, 2 new member, 3 the new value (sealed for the new key), 4 expected write
         counter of the old session ('' = any), 5 IP binding tag and 6 user-agent binding tag of the
         new session ('' = keep the old one)
  reply: {'ok', createdAt, lastSeenAt, expiresAt, absoluteExpiresAt}, {'expired'}, {'unknown'},
         {'conflict'} or {'exists'}
]]
local EXP, SEEN, BORN, STATS = KEYS[3], KEYS[4], KEYS[5], KEYS[6]
-- @include session-bookkeeping.lib.lua

local old, new, oldMember, newMember = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local f = redis.call('HMGET', old, 'x', 'c', 'a', 'i', 'l', 'w', 'bi', 'bu')
if not f[2] then
  if redis.call('ZSCORE', EXP, oldMember) then
    finish(oldMember, 'expired')
    return {'expired'}
  end
  return {'unknown'}
end
local createdAt, absoluteAt, idle = tonumber(f[2]), tonumber(f[3]), tonumber(f[4])
if now >= absoluteAt or now >= tonumber(f[5]) + idle then
  redis.call('DEL', old)
  if f[1] ~= '' then
    redis.call('ZREM', f[1], oldMember)
  end
  finish(oldMember, 'expired')
  return {'expired'}
end
if ARGV[4] ~= '' and f[6] ~= ARGV[4] then
  return {'conflict'}
end
if redis.call('EXISTS', new) == 1 then
  return {'exists'}
end
local ttl = math.min(idle, absoluteAt - now)
redis.call('HSET', new, 'v', ARGV[3], 'x', f[1], 'c', createdAt, 'a', absoluteAt, 'i', idle, 'l', now, 'w', 1)
local bi, bu = ARGV[5], ARGV[6]
if bi == '' then
  bi = f[7]
end
if bu == '' then
  bu = f[8]
end
if bi then
  redis.call('HSET', new, 'bi', bi)
end
if bu then
  redis.call('HSET', new, 'bu', bu)
end
redis.call('PEXPIRE', new, ttl)
redis.call('DEL', old)
if f[1] ~= '' then
  redis.call('ZREM', f[1], oldMember)
  redis.call('ZADD', f[1], now, newMember)
end
redis.call('ZREM', EXP, oldMember)
redis.call('ZREM', SEEN, oldMember)
redis.call('HDEL', BORN, oldMember)
redis.call('ZADD', EXP, now + ttl, newMember)
redis.call('ZADD', SEEN, now, newMember)
redis.call('HSET', BORN, newMember, createdAt)
redis.call('HINCRBY', STATS, 'regenerated', 1)
return {'ok', createdAt, now, now + ttl, absoluteAt}
