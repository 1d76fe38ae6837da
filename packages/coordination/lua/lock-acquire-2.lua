--[[
  Takes a lock if it is free and hands out the next fencing token, atomically.
  keys:  1 the lock key, 2 the lock's fence counter (same hash tag)
  args:  1 the holder's random token, 2 the TTL in milliseconds
  reply: the fencing token (an integer that only ever grows), or false when the lock is held
]]
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return false
