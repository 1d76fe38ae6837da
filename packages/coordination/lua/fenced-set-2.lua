--[[
  Writes a value guarded by fencing tokens: a write carrying an older token than
  one already seen is refused (Kleppmann's fencing, done by the storage).
  keys:  1 the resource key, 2 the resource's highest fence seen (same hash tag)
  args:  1 the value, 2 the writer's fencing token
  reply: 1 when written, 0 when refused because a newer token was seen
]]
local seen = tonumber(redis.call('GET', KEYS[2]) or '0')
local fence = tonumber(ARGV[2])
if fence < seen then
  return 0
end
redis.call('SET', KEYS[2], fence)
redis.call('SET', KEYS[1], ARGV[1])
return 1
