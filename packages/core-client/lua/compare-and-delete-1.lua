--[[
  Deletes a key only if it holds the expected value (a lock token, a lease).
  keys:  1 the key
  args:  1 the expected value
  reply: 1 when deleted, 0 when the key held something else or nothing
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
