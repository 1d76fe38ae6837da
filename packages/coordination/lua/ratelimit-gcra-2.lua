--[[
  GCRA (generic cell rate algorithm): `limit` requests per window, spaced at
  window/limit, with a burst of up to `limit`. One number per key: the
  theoretical arrival time (TAT).
  keys:  1 the TAT, 2 the penalty block key (same hash tag)
  args:  1 limit, 2 window ms, 3 cost, 4 block ms (0 = none)
  reply: {allowed 0/1, remaining, reset ms, retry-after ms}
]]
local limit, window, cost, block = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {0, 0, blocked, blocked}
end
local interval = window / limit
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local newTat = tat + cost * interval
local allowAt = newTat - window
if now < allowAt then
  local reset = math.ceil(tat - now)
  local remaining = math.max(0, math.floor((window - (tat - now)) / interval))
  if block > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block)
    return {0, remaining, math.max(reset, block), block}
  end
  return {0, remaining, reset, math.ceil(allowAt - now)}
end
redis.call('SET', KEYS[1], newTat, 'PX', math.max(1, math.ceil(newTat - now)))
local remaining = math.max(0, math.floor((window - (newTat - now)) / interval))
return {1, remaining, math.ceil(newTat - now), 0}
