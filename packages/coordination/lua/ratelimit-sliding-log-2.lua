--[[
  Sliding window rate limit, exact: a log of the last window's requests.
  keys:  1 the log (sorted set: entry -> time ms), 2 the penalty block key (same hash tag)
  args:  1 limit, 2 window ms, 3 cost, 4 block ms (0 = none)
  reply: {allowed 0/1, remaining, reset ms, retry-after ms[, 1 when refused by a penalty block]}
]]
local limit, window, cost, block = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {0, 0, blocked, blocked, 1}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count + cost > limit then
  local retry = window
  local needed = count + cost - limit
  if cost <= limit and needed <= count then
    local entry = redis.call('ZRANGE', KEYS[1], needed - 1, needed - 1, 'WITHSCORES')
    retry = tonumber(entry[2]) + window - now
  end
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local reset = oldest[2] and (tonumber(oldest[2]) + window - now) or window
  if block > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block)
    return {0, math.max(0, limit - count), math.max(reset, block), math.max(retry, block)}
  end
  return {0, math.max(0, limit - count), reset, retry}
end
-- Members are unique: within one millisecond the count only grows.
for i = 1, cost do
  redis.call('ZADD', KEYS[1], now, now .. '-' .. (count + i))
end
redis.call('PEXPIRE', KEYS[1], window)
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {1, limit - count - cost, tonumber(oldest[2]) + window - now, 0}
