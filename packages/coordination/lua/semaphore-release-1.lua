--[[
  Frees a semaphore slot if this token still holds one (not expired).
  keys:  1 the holders (sorted set: token -> expiry ms)
  args:  1 the holder's token
  reply: 1 when the slot was held and is now free, 0 when it had expired or was never held
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if expiry and tonumber(expiry) > now then
  return 1
end
return 0
