--[[
  Fixed window rate limit: at most `limit` units per window, the window
  starting at the first request. Denials can start a penalty block.
  keys:  1 the counter, 2 the penalty block key (same hash tag)
  args:  1 limit, 2 window ms, 3 cost, 4 block ms (0 = none)
  reply: {allowed 0/1, remaining, reset ms, retry-after ms[, 1 when refused by a penalty block]}
]]
local limit, window, cost, block = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {0, 0, blocked, blocked, 1}
end
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = window end
if current + cost > limit then
  if block > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block)
    -- The window may outlast the block: the earliest success is after both.
    return {0, math.max(0, limit - current), math.max(ttl, block), math.max(ttl, block)}
  end
  return {0, math.max(0, limit - current), ttl, ttl}
end
local count = redis.call('INCRBY', KEYS[1], cost)
-- Never a key without a TTL: the first write of a window sets it, and so does any repair.
if count == cost or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
  ttl = window
end
return {1, limit - count, ttl, 0}
