--[[
  Token bucket: `limit` tokens, refilled at `limit` per window; a request takes `cost`.
  keys:  1 the bucket (hash: t = tokens, ts = last update ms), 2 the penalty block key
  args:  1 limit (capacity), 2 window ms (time to refill from empty), 3 cost, 4 block ms (0 = none)
  reply: {allowed 0/1, remaining, reset ms (until full), retry-after ms}
]]
local limit, window, cost, block = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {0, 0, blocked, blocked}
end
local rate = limit / window
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens, ts = tonumber(state[1]) or limit, tonumber(state[2]) or now
tokens = math.min(limit, tokens + math.max(0, now - ts) * rate)
if tokens < cost then
  local retry = (cost <= limit) and math.ceil((cost - tokens) / rate) or window
  local reset = math.ceil((limit - tokens) / rate)
  redis.call('HSET', KEYS[1], 't', tokens, 'ts', now)
  redis.call('PEXPIRE', KEYS[1], math.max(1, reset))
  if block > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block)
    return {0, math.floor(tokens), math.max(reset, block), block}
  end
  return {0, math.floor(tokens), reset, retry}
end
tokens = tokens - cost
local reset = math.ceil((limit - tokens) / rate)
redis.call('HSET', KEYS[1], 't', tokens, 'ts', now)
-- A full bucket is the same as no bucket: expire the state when it would be full again.
redis.call('PEXPIRE', KEYS[1], math.max(1, reset))
return {1, math.floor(tokens), reset, 0}
