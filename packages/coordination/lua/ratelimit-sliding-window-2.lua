--[[
  Sliding window rate limit, approximate: the current window's count plus the
  previous window's count weighted by how much of it still overlaps.
  keys:  1 the counters (hash: w = window index, c = current, p = previous), 2 the penalty block key
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
local index = math.floor(now / window)
local state = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local w, c, p = tonumber(state[1]), tonumber(state[2]) or 0, tonumber(state[3]) or 0
if w == nil or w < index - 1 then
  c, p = 0, 0
elseif w == index - 1 then
  p, c = c, 0
end
local elapsed = now - index * window
local weight = (window - elapsed) / window
local estimate = p * weight + c
local reset = window - elapsed
if estimate + cost > limit then
  local retry
  if c + cost <= limit then
    -- This window: the previous window's share shrinks as time passes; wait until it has shrunk enough.
    local need = window - (limit - c - cost) * window / p
    retry = math.max(1, math.ceil(need - elapsed))
  elseif c > 0 then
    -- Next window: this window's count becomes the weighted previous one.
    local need = window - (limit - cost) * window / c
    retry = reset + math.max(0, math.ceil(need))
  else
    retry = reset
  end
  if block > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block)
    return {0, math.max(0, math.floor(limit - estimate)), math.max(reset, block), math.max(retry, block)}
  end
  return {0, math.max(0, math.floor(limit - estimate)), reset, retry}
end
c = c + cost
redis.call('HSET', KEYS[1], 'w', index, 'c', c, 'p', p)
redis.call('PEXPIRE', KEYS[1], window * 2)
return {1, math.max(0, math.floor(limit - estimate - cost)), reset, 0}
