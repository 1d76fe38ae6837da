-- Shared by the session scripts: scripts/embed-lua.mjs splices this file into each script that includes it.
-- Expects locals EXP, SEEN, BORN, STATS (the global sets and counters) to be defined first.
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
