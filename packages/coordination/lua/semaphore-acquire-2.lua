--[[
  Takes one of a semaphore's slots if any is free, with a fencing token.
  keys:  1 the holders (sorted set: token -> expiry ms), 2 the fence counter (same hash tag)
  args:  1 the holder's random token, 2 the number of slots, 3 the TTL in milliseconds
  reply: the fencing token, or false when every slot is held
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return false
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
-- The set lives as long as its longest holder; an empty one disappears.
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], tonumber(last[2]))
return redis.call('INCR', KEYS[2])
