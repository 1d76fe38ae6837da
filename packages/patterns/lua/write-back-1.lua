--[[
  Writes a load's result (getOrSet's write-back), unless the key or an
  invalidation marker changed after the load began (the stale-set race), or
  a newer version is stored. Also writes versioned sets (no race check).
  - The key: the load read it before calling its factory and passes the
    header (first 28 bytes) of what it saw, '' for nothing. Any change since
    (a set, a delete's tombstone, another load's write, expire(), touch(),
    expiry or eviction) refuses the write: an exact check, no clock involved.
  - An empty key that was empty: a delete since then may have left a
    tombstone that already expired, so a load older than a tombstone lives
    (ARGV[5]) is refused as too old to tell.
  - Markers (namespace clear / prefix / pattern delete, tag invalidations)
    hold their time on the Redis clock; one at or after the load's start
    (a lower bound) refuses the write.
  keys:  1 the entry; 2.. invalidation-time markers (standalone only: the
         namespace's, then two per tag), so the key count varies per call
  args:  1 the entry bytes, 2 the Redis TTL in ms, 3 when the load began
         (Redis clock ms; 0: a versioned set, only the version is checked),
         4 the entry's version (0 for none), 5 how long a tombstone lives, ms,
         6 the header the load saw ('' for an empty key), 7 a pub/sub
         channel to announce the write on ('' for none): a load that held
         the stampede lock wakes the loads of other processes waiting for
         it, with 'w' and the key as the message, in the same step as the write
  reply: 1 written, 0 refused (changed since the load began),
         -1 refused (a newer version is stored), -2 refused (too old to tell)
]]
local started = tonumber(ARGV[3])
local cur = redis.call('GET', KEYS[1])
if started > 0 then
  local seen = cur and string.sub(cur, 1, 28) or ''
  if seen ~= ARGV[6] then
    return 0
  end
  if not cur then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
    if now - started >= tonumber(ARGV[5]) then
      return -2
    end
  end
  for i = 2, #KEYS do
    local at = tonumber(redis.call('GET', KEYS[i]) or '0')
    if at and at >= started then
      return 0
    end
  end
end
local version = tonumber(ARGV[4])
if version > 0 and cur and #cur >= 28 and string.byte(cur, 1) == 197 and string.byte(cur, 2) == 1 then
  if struct.unpack('<d', cur, 21) > version then
    return -1
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[7] and ARGV[7] ~= '' then
  redis.call('PUBLISH', ARGV[7], 'w' .. KEYS[1])
end
return 1
