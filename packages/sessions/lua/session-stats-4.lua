--[[
  Analytics: sweeps sessions that expired unnoticed (counting them), then reads the counters.
  keys:  1 expiries (sorted set), 2 last seen (sorted set), 3 creation times (hash), 4 counters
         (hash). Session keys are prefix .. member, same hash tag.
  args:  1 session key prefix, 2 the "active within" window ms, 3 most sessions to sweep
  reply: {active, activeWithin, expiredNow, {counter, value, ...}}
]]
local EXP, SEEN, BORN, STATS = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
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

local prefix, window, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local expired = 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', EXP, '-inf', '(' .. now, 'LIMIT', 0, limit)) do
  if redis.call('EXISTS', prefix .. m) == 0 then
    expired = expired + finish(m, 'expired')
  end
end
local active = redis.call('ZCOUNT', EXP, '(' .. now, '+inf')
local recent = redis.call('ZCOUNT', SEEN, now - window, '+inf')
return {active, recent, expired, redis.call('HGETALL', STATS)}
