--[[
  GCRA (generic cell rate algorithm): `limit` requests per window, spaced at
  window/limit, with a burst of up to `limit`.
  All arithmetic is on integers scaled by `limit` (interval = window/limit would
  be a fraction, and fractions added to epoch milliseconds lose precision). The
  key holds the backlog (theoretical arrival time minus now, scaled) and the
  time it was measured, so numbers stay small whatever the clock reads.
  keys:  1 the state (hash: b = base time ms, o = backlog scaled by limit), 2 the penalty block key
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
local capacity = window * limit
local state = redis.call('HMGET', KEYS[1], 'b', 'o')
local backlog = 0
if state[1] then
  backlog = math.max(0, tonumber(state[2]) - (now - tonumber(state[1])) * limit)
end
local after = backlog + cost * window
if after > capacity then
  local retry = math.ceil((after - capacity) / limit)
  local remaining = math.max(0, math.floor((capacity - backlog) / window))
  local reset = math.ceil(backlog / limit)
  if block > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block)
    retry = math.max(retry, block)
    reset = math.max(reset, block)
  end
  return {0, remaining, reset, retry}
end
redis.call('HSET', KEYS[1], 'b', now, 'o', after)
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(after / limit)))
return {1, math.floor((capacity - after) / window), math.ceil(after / limit), 0}
