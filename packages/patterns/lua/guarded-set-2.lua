--[[
  Writes a cache entry unless an invalidation happened since the writer read
  its source (the stale-set race), or a newer version is stored.
  keys:  1 the entry, 2 the namespace's clear marker, 3.. tag invalidation-time markers (same slot, standalone only)
  args:  1 the entry bytes, 2 the TTL in ms, 3 the tombstone the writer saw when it read ('' for none,
         '*' to skip the check: a plain set), 4 when the writer started, ms (0 skips the markers),
         5 the entry's version (0 for none)
  reply: 1 written, 0 refused (invalidated while loading), -1 refused (a newer version is stored)
]]
local cur = redis.call('GET', KEYS[1])
if cur and string.byte(cur, 1) == 197 then
  local kind = string.byte(cur, 2)
  if kind == 2 and ARGV[3] ~= '*' and cur ~= ARGV[3] then
    return 0
  end
  local version = tonumber(ARGV[5])
  if version > 0 and kind == 1 then
    local stored = struct.unpack('<d', cur, 21)
    if stored > version then
      return -1
    end
  end
end
local started = tonumber(ARGV[4])
if started > 0 then
  for i = 2, #KEYS do
    local at = tonumber(redis.call('GET', KEYS[i]) or '0')
    if at and at >= started then
      return 0
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
