--[[
  Token bucket: `limit` tokens, refilled at `limit` per window; a request takes `cost`.
  Tokens are kept scaled by `window` so every refill is an integer
  (elapsed ms * limit): no fractions accumulate rounding errors.
  keys:  1 the bucket (hash: t = tokens * window, ts = last update ms), 2 the penalty block key
  args:  1 limit (capacity), 2 window ms (time to refill from empty), 3 cost, 4 block ms (0 = none)
  reply: {allowed 0/1, remaining, reset ms (until full), retry-after ms[, 1 when refused by a penalty block]}
]]
local limit, window, cost, block = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {0, 0, blocked, blocked, 1}
end
local full = limit * window
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens, ts = tonumber(state[1]) or full, tonumber(state[2]) or now
tokens = math.min(full, tokens + math.max(0, now - ts) * limit)
local need = cost * window
if tokens < need then
  local retry = math.ceil((need - tokens) / limit)
  local reset = math.ceil((full - tokens) / limit)
  redis.call('HSET', KEYS[1], 't', tokens, 'ts', now)
  redis.call('PEXPIRE', KEYS[1], math.max(1, reset))
  if block > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block)
    retry = math.max(retry, block)
    reset = math.max(reset, block)
  end
  return {0, math.floor(tokens / window), reset, retry}
end
tokens = tokens - need
local reset = math.ceil((full - tokens) / limit)
redis.call('HSET', KEYS[1], 't', tokens, 'ts', now)
-- A full bucket is the same as no bucket: expire the state when it would be full again.
redis.call('PEXPIRE', KEYS[1], math.max(1, reset))
return {1, math.floor(tokens / window), reset, 0}
