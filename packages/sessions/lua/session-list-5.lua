--[[
  Lists one user's live sessions, cleaning the index of ended ones as it reads.
  keys:  1 the user's index (sorted set), 2 expiries (sorted set), 3 last seen (sorted set),
         4 creation times (hash), 5 counters (hash). Session keys are prefix .. member, same tag.
  args:  1 session key prefix, 2 '1' to return values and times, '0' for members only
  reply: {expired, {member, value, createdAt, absoluteExpiresAt, lastSeenAt, expiresAt}...}
         or {expired, {member}...}
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

local index, prefix, full = KEYS[1], ARGV[1], ARGV[2] == '1'
local expired = 0
local out = {0}
for _, m in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  local key = prefix .. m
  if redis.call('EXISTS', key) == 0 then
    redis.call('ZREM', index, m)
    expired = expired + finish(m, 'expired')
  elseif full then
    local f = redis.call('HMGET', key, 'v', 'c', 'a', 'l')
    local at = redis.call('ZSCORE', EXP, m) or f[3]
    table.insert(out, {m, f[1], f[2], f[3], f[4], at})
  else
    table.insert(out, {m})
  end
end
out[1] = expired
return out
