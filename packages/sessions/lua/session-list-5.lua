--[[
  Lists one user's live sessions, cleaning the index of ended ones as it reads.
  keys:  1 the user's index (sorted set), 2 expiries (sorted set), 3 last seen (sorted set),
         4 creation times (hash), 5 counters (hash). Session keys are prefix .. member, same tag.
  args:  1 session key prefix, 2 '1' to return values and times, '0' for members only
  reply: {expired, {member, value, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt}...}
         (the time fields in the order every session script uses)
         or {expired, {member}...}
]]
local EXP, SEEN, BORN, STATS = KEYS[2], KEYS[3], KEYS[4], KEYS[5]
-- @include session-bookkeeping.lib.lua

local index, prefix, full = KEYS[1], ARGV[1], ARGV[2] == '1'
local expired = 0
local out = {0}
for _, m in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  local key = prefix .. m
  if redis.call('EXISTS', key) == 0 then
    redis.call('ZREM', index, m)
    expired = expired + finish(m, 'expired')
  elseif full then
    local f = redis.call('HMGET', key, 'v', 'c', 'a', 'l')
    local at = redis.call('ZSCORE', EXP, m) or f[3]
    table.insert(out, {m, f[1], f[2], f[4], at, f[3]})
  else
    table.insert(out, {m})
  end
end
out[1] = expired
return out
