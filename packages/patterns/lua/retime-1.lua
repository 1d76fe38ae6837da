--[[
  Moves the logical expiry of a cache entry in place (expire: now, so it is
  stale but kept for grace; touch: later) and sets its Redis TTL. expire()
  also flags the entry (flags bit 1, for tools that show it); either way the
  header changes, so a load that read the key before cannot write back.
  Expiring a key with no live entry leaves a tombstone instead, so a load
  already running cannot write its value back as fresh either.
  keys:  1 the entry
  args:  1 the new logical expiry in ms, 2 the new Redis TTL in ms (0 deletes the entry),
         3 '1' to never lengthen the current Redis TTL, 4 '1' to flag the entry as expired by expire(),
         5 a tombstone to leave when there is no live entry ('' for none), 6 its TTL in ms
  reply: 1 when the entry exists and was changed, 0 when there is no live entry
]]
local cur = redis.call('GET', KEYS[1])
if not cur or #cur < 28 or string.byte(cur, 1) ~= 197 or string.byte(cur, 2) == 2 then
  if ARGV[5] ~= '' and (not cur or string.byte(cur, 1) == 197) then
    redis.call('SET', KEYS[1], ARGV[5], 'PX', ARGV[6])
  end
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
local flags = string.byte(cur, 3)
if ARGV[4] == '1' then
  flags = bit.bor(flags, 2)
else
  flags = bit.band(flags, 253)
end
local patched = string.sub(cur, 1, 2) .. string.char(flags) .. string.sub(cur, 4, 12)
  .. struct.pack('<d', tonumber(ARGV[1])) .. string.sub(cur, 21)
redis.call('SET', KEYS[1], patched, 'PX', px)
return 1
