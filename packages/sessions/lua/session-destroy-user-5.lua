--[[
  Destroys every session of one user, optionally but one.
  keys:  1 the user's index (sorted set), 2 expiries (sorted set), 3 last seen (sorted set),
         4 creation times (hash), 5 counters (hash). Session keys are prefix .. member, same tag.
  args:  1 session key prefix, 2 members to keep, comma-separated ('' = none)
  reply: {destroyed, expired}
]]
local EXP, SEEN, BORN, STATS = KEYS[2], KEYS[3], KEYS[4], KEYS[5]
-- @include session-bookkeeping.lib.lua

local index, prefix = KEYS[1], ARGV[1]
local keep = {}
for m in string.gmatch(ARGV[2], '[^,]+') do
  keep[m] = true
end
local destroyed, expired = 0, 0
for _, m in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  if redis.call('EXISTS', prefix .. m) == 0 then
    redis.call('ZREM', index, m)
    expired = expired + finish(m, 'expired')
  elseif not keep[m] then
    redis.call('DEL', prefix .. m)
    redis.call('ZREM', index, m)
    destroyed = destroyed + finish(m, 'destroyed')
  end
end
return {destroyed, expired}
