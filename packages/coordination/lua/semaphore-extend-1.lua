--[[
  Extends a semaphore slot if this token still holds one.
  keys:  1 the holders (sorted set: token -> expiry ms)
  args:  1 the holder's token, 2 the new TTL in milliseconds
  reply: 1 when extended, 0 when the token no longer holds a slot
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry or tonumber(expiry) <= now then
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], tonumber(last[2]))
return 1
