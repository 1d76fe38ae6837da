--[[
  Creates or saves a session, applying the per-user limit in the same atomic step.
  keys:  1 the session (hash: v value, x user index key or '', c created ms, a absolute expiry ms,
         i idle ms, l last seen ms, w write counter), 2 the user's index (sorted set: member -> last
         seen ms; for an anonymous session a key that is never written), 3 expiries (sorted set:
         member -> expiry ms), 4 last seen (sorted set: member -> ms), 5 creation times (hash:
         member -> ms), 6 counters (hash). All keys share the manager's hash tag; session keys of
         other members (prefix .. member) carry it too, so on Cluster everything is in one slot.
  args:  1 session key prefix, 2 this session's member (HMAC of its id), 3 mode: 'create' (must be
         new), 'upsert' (new or existing), 'update' (must exist), 4 the value, 5 idle timeout ms
         (0 = keep the stored one), 6 absolute timeout ms, 7 max sessions per user (0 = no limit),
         8 'reject' or 'evict-oldest', 9 '1' when anonymous (no index), 10 expected write counter
         ('' = any), 11 IP binding tag and 12 user-agent binding tag of a new session ('' = none)
  reply: {'ok', createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, evicted, expired, 1 if created else 0},
         {'rejected', expired}, {'exists'}, {'unknown'}, {'expired'} or {'conflict'}
]]
local EXP, SEEN, BORN, STATS = KEYS[3], KEYS[4], KEYS[5], KEYS[6]
-- @include session-bookkeeping.lib.lua

local prefix, member, mode, value = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local idleArg, absolute, max, policy = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local anon = ARGV[9] == '1'
local key, index = KEYS[1], KEYS[2]
local expired = 0

-- A bounded sweep of sessions that expired unnoticed, so counters stay current.
local due = redis.call('ZRANGEBYSCORE', EXP, '-inf', '(' .. now, 'LIMIT', 0, 20)
for _, m in ipairs(due) do
  if redis.call('EXISTS', prefix .. m) == 0 then
    expired = expired + finish(m, 'expired')
  end
end

local state = redis.call('HMGET', key, 'x', 'c', 'a', 'i', 'l', 'w')
local exists = state[2] ~= false
if exists then
  if mode == 'create' then
    return {'exists'}
  end
  if now >= tonumber(state[3]) or now >= tonumber(state[5]) + tonumber(state[4]) then
    redis.call('DEL', key)
    if state[1] ~= '' then
      redis.call('ZREM', state[1], member)
    end
    finish(member, 'expired')
    return {'expired'}
  end
  if ARGV[10] ~= '' and state[6] ~= ARGV[10] then
    return {'conflict'}
  end
else
  -- Never resurrect a session that ended: a late save after expiry or logout is refused.
  if redis.call('ZSCORE', EXP, member) then
    finish(member, 'expired')
    return {'expired'}
  end
  if mode == 'update' then
    return {'unknown'}
  end
end

local createdAt, absoluteAt, idle = now, now + absolute, idleArg
if exists then
  createdAt, absoluteAt = tonumber(state[2]), tonumber(state[3])
  if idleArg == 0 then
    idle = tonumber(state[4])
  end
end
local oldIndex = exists and state[1] or ''
local newIndex = anon and '' or index

-- Joining a user's index (a new session, or one whose user changed): the limit applies here.
local evicted = 0
if newIndex ~= '' and oldIndex ~= newIndex then
  local live = 0
  for _, m in ipairs(redis.call('ZRANGE', newIndex, 0, -1)) do
    if redis.call('EXISTS', prefix .. m) == 1 then
      live = live + 1
    else
      redis.call('ZREM', newIndex, m)
      expired = expired + finish(m, 'expired')
    end
  end
  if max > 0 and live >= max then
    if policy == 'reject' then
      redis.call('HINCRBY', STATS, 'rejected', 1)
      return {'rejected', expired}
    end
    -- Least recently used first: the index is scored by last seen.
    for _, m in ipairs(redis.call('ZRANGE', newIndex, 0, live - max)) do
      redis.call('DEL', prefix .. m)
      redis.call('ZREM', newIndex, m)
      evicted = evicted + finish(m, 'evicted')
    end
  end
  -- Every session of the user ends within the absolute timeout of the newest one.
  redis.call('ZADD', newIndex, now, member)
  redis.call('PEXPIRE', newIndex, absolute)
elseif newIndex ~= '' then
  redis.call('ZADD', newIndex, now, member)
end
if oldIndex ~= '' and oldIndex ~= newIndex then
  redis.call('ZREM', oldIndex, member)
end

local ttl = math.min(idle, absoluteAt - now)
redis.call('HSET', key, 'v', value, 'x', newIndex, 'c', createdAt, 'a', absoluteAt, 'i', idle, 'l', now)
redis.call('HINCRBY', key, 'w', 1)
redis.call('PEXPIRE', key, ttl)
redis.call('ZADD', EXP, now + ttl, member)
redis.call('ZADD', SEEN, now, member)
if not exists then
  if ARGV[11] ~= '' then
    redis.call('HSET', key, 'bi', ARGV[11])
  end
  if ARGV[12] ~= '' then
    redis.call('HSET', key, 'bu', ARGV[12])
  end
  redis.call('HSET', BORN, member, createdAt)
  redis.call('HINCRBY', STATS, 'created', 1)
end
local created = 0
if not exists then
  created = 1
end
return {'ok', createdAt, now, now + ttl, absoluteAt, evicted, expired, created}
