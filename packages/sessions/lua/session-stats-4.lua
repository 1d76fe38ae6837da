--[[
  Analytics: sweeps sessions that expired unnoticed (counting them), then reads the counters.
  keys:  1 expiries (sorted set), 2 last seen (sorted set), 3 creation times (hash), 4 counters
         (hash). Session keys are prefix .. member, same hash tag.
  args:  1 session key prefix, 2 the "active within" window ms, 3 most sessions to sweep
  reply: {active, activeWithin, expiredNow, {counter, value, ...}}
]]
local EXP, SEEN, BORN, STATS = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
-- @include session-bookkeeping.lib.lua

local prefix, window, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local expired = 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', EXP, '-inf', '(' .. now, 'LIMIT', 0, limit)) do
  if redis.call('EXISTS', prefix .. m) == 0 then
    expired = expired + finish(m, 'expired')
  end
end
local active = redis.call('ZCOUNT', EXP, '(' .. now, '+inf')
local recent = redis.call('ZCOUNT', SEEN, now - window, '+inf')
return {active, recent, expired, redis.call('HGETALL', STATS)}
