--[[
  Reads a session by member and, when asked, slides its idle timeout (never past the absolute one).
  keys:  1 the session (hash), 2 expiries (sorted set), 3 last seen (sorted set), 4 creation times
         (hash), 5 counters (hash). The user's index named in the session's x field shares their
         hash tag and has the member's score moved on touch.
  args:  1 the member (HMAC of the id), 2 '1' to touch, 3 '1' to return the value, 4 idle timeout
         ms to set (0 = keep the stored one), 5 the request's IP binding tag ('' = not checked),
         6 the request's user-agent binding tag ('' = not checked)
  reply: {'ok', value or '', createdAt, absoluteExpiresAt, lastSeenAt, expiresAt, write counter},
         {'expired'}, {'unknown'}, {'ip-mismatch'} or {'ua-mismatch'} (a mismatch neither touches
         nor returns the session)
]]
local EXP, SEEN, BORN, STATS = KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- Upper bounds (ms) of the session-duration histogram: 1m, 5m, 15m, 1h, 4h, 24h, then +inf.
local BUCKETS = {60000, 300000, 900000, 3600000, 14400000, 86400000}

-- Counts how a session ended and how long it lived.
local function record(how, bornAt, endAt)
  redis.call('HINCRBY', STATS, how, 1)
  if bornAt then
    local lived = math.max(0, endAt - tonumber(bornAt))
    local bucket = 'inf'
    for _, le in ipairs(BUCKETS) do
      if lived <= le then
        bucket = tostring(le)
        break
      end
    end
    redis.call('HINCRBY', STATS, 'dur_count', 1)
    redis.call('HINCRBY', STATS, 'dur_sum', lived)
    redis.call('HINCRBY', STATS, 'dur_le_' .. bucket, 1)
  end
end

-- Takes an ended session out of the global sets. Only the caller whose ZREM
-- succeeds counts it, so a session is counted once however many readers notice.
local function finish(member, how)
  local at = redis.call('ZSCORE', EXP, member)
  local removed = redis.call('ZREM', EXP, member)
  redis.call('ZREM', SEEN, member)
  local bornAt = redis.call('HGET', BORN, member)
  redis.call('HDEL', BORN, member)
  if removed == 0 then
    return 0
  end
  local endAt = now
  if how == 'expired' and at then
    endAt = math.min(now, tonumber(at))
  end
  record(how, bornAt, endAt)
  return 1
end

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
return {'ok', value, f[3], f[4], tostring(lastSeen), tostring(expiresAt), f[7]}
