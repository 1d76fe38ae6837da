--[[
  Reads the open horizons of one table, dropping those past their deadline.
  keys:  1 the table's horizon set
  args:  none
  reply: a flat list {transaction id, ms until its horizon ends, ...}; times are relative so no clock is compared
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local open = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local out = {}
for i = 1, #open, 2 do
  out[#out + 1] = open[i]
  out[#out + 1] = math.floor(tonumber(open[i + 1]) - now)
end
return out
