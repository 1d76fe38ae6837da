--[[
  Sets a key's TTL only if it holds the expected value (extends a lock or lease).
  keys:  1 the key
  args:  1 the expected value, 2 the new TTL in milliseconds
  reply: 1 when the TTL was set, 0 when the key held something else or nothing
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
