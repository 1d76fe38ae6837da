--[[
  Moves the logical expiry of a cache entry in place (expire: now, so it is
  stale but kept for grace; touch: later) and sets its Redis TTL.
  keys:  1 the entry
  args:  1 the new logical expiry in ms, 2 the new Redis TTL in ms (0 deletes the entry),
         3 '1' to never lengthen the current Redis TTL
  reply: 1 when the entry exists and was changed, 0 when there is no live entry
]]
local cur = redis.call('GET', KEYS[1])
if not cur or string.byte(cur, 1) ~= 197 or string.byte(cur, 2) == 2 then
  return 0
end
local px = tonumber(ARGV[2])
if px <= 0 then
  redis.call('UNLINK', KEYS[1])
  return 1
end
if ARGV[3] == '1' then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 and ttl < px then
    px = ttl
  end
end
local patched = string.sub(cur, 1, 12) .. struct.pack('<d', tonumber(ARGV[1])) .. string.sub(cur, 21)
redis.call('SET', KEYS[1], patched, 'PX', px)
return 1
