--[[
  Reads a session by member and, when asked, slides its idle timeout (never past the absolute one).
  keys:  1 the session (hash), 2 expiries (sorted set), 3 last seen (sorted set), 4 creation times
         (hash), 5 counters (hash). The user's index named in the session's x field shares their
         hash tag and has the member's score moved on touch.
  args:  1 the member (HMAC of the id), 2 '1' to touch, 3 '1' to return the value, 4 idle timeout
         ms to set (0 = keep the stored one), 5 the request's IP binding tag ('' = not checked),
         6 the request's user-agent binding tag ('' = not checked)
  reply: {'ok', value or '', createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, write counter}
         (the time fields in the order every session script uses),
         {'expired'}, {'unknown'}, {'ip-mismatch'} or {'ua-mismatch'} (a mismatch neither touches
         nor returns the session)
]]
local EXP, SEEN, BORN, STATS = KEYS[2], KEYS[3], KEYS[4], KEYS[5]
-- @include session-bookkeeping.lib.lua

local key, member = KEYS[1], ARGV[1]
local f = redis.call('HMGET', key, 'v', 'x', 'c', 'a', 'i', 'l', 'w', 'bi', 'bu')
if not f[3] then
  if redis.call('ZSCORE', EXP, member) then
    finish(member, 'expired')
    return {'expired'}
  end
  return {'unknown'}
end
local absoluteAt, idle, lastSeen = tonumber(f[4]), tonumber(f[5]), tonumber(f[6])
if now >= absoluteAt or now >= lastSeen + idle then
  redis.call('DEL', key)
  if f[2] ~= '' then
    redis.call('ZREM', f[2], member)
  end
  finish(member, 'expired')
  return {'expired'}
end
if ARGV[5] ~= '' and f[8] ~= ARGV[5] then
  redis.call('HINCRBY', STATS, 'binding_mismatch', 1)
  return {'ip-mismatch'}
end
if ARGV[6] ~= '' and f[9] ~= ARGV[6] then
  redis.call('HINCRBY', STATS, 'binding_mismatch', 1)
  return {'ua-mismatch'}
end
local expiresAt = math.min(lastSeen + idle, absoluteAt)
if ARGV[2] == '1' then
  if tonumber(ARGV[4]) > 0 then
    idle = tonumber(ARGV[4])
    redis.call('HSET', key, 'i', idle)
  end
  lastSeen = now
  local ttl = math.min(idle, absoluteAt - now)
  redis.call('HSET', key, 'l', now)
  redis.call('PEXPIRE', key, ttl)
  redis.call('ZADD', EXP, now + ttl, member)
  redis.call('ZADD', SEEN, now, member)
  if f[2] ~= '' then
    redis.call('ZADD', f[2], 'XX', now, member)
  end
  expiresAt = now + ttl
end
local value = ''
if ARGV[3] == '1' then
  value = f[1]
end
return {'ok', value, f[3], tostring(lastSeen), tostring(expiresAt), f[4], f[7]}
