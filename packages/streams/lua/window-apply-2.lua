--[[
Applies one partition batch of one window series, atomically and at most once.

keys: KEYS[1] the series' offsets hash (o:<partition> last applied offset, w:<partition> watermark,
  t:<partition> last apply time, minwm), KEYS[2] the index of window starts (ZSET, score = start),
  then KEYS[3..] variadic: the window hashes this batch updates, then their HyperLogLog keys.
  Every key carries the series' hash tag.
args: partition, prevOffset ('' = none stored), lastOffset, watermark ('' = none), sizeMs, graceMs,
  retentionMs, idleMs (0 = never idle), channel ('' = do not publish), seriesName, windowCount,
  then per window: start, expireAtMs, opCount, opCount x (op, field, value) with op i = HINCRBY,
  f = HINCRBYFLOAT, n = keep the minimum, x = keep the maximum; hllCount, hllCount x
  (keyIndex, valueCount, values...).
reply: {'dup', storedOffset} when lastOffset is already applied (a replay);
  {'stale', storedOffset} when the stored offset is not prevOffset (recompute from it);
  {'ok', minWatermark, {updated starts}, {starts that became final}} after applying.
  Publishes {"name","start","final"} on the channel for each updated or newly final window.
]]
local offsets, index = KEYS[1], KEYS[2]
local partition, prev, last, watermark = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local size, grace, retention, idle = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local channel, name = ARGV[9], ARGV[10]

-- Offsets are Kafka offsets ("123") or stream IDs ("1700000000000-3"): compare part by part.
local function parts(offset)
  local dash = string.find(offset, '-', 1, true)
  if dash then return tonumber(string.sub(offset, 1, dash - 1)), tonumber(string.sub(offset, dash + 1)) end
  return tonumber(offset), 0
end
local function compare(a, b)
  local a1, a2 = parts(a)
  local b1, b2 = parts(b)
  if a1 ~= b1 then return a1 < b1 and -1 or 1 end
  if a2 ~= b2 then return a2 < b2 and -1 or 1 end
  return 0
end
local function whole(n) return string.format('%.0f', n) end

local stored = redis.call('HGET', offsets, 'o:' .. partition)
if stored and compare(stored, last) >= 0 then return { 'dup', stored } end
if (stored or '') ~= prev then return { 'stale', stored or '' } end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local updated = {}
local at = 12
local latestExpiry = nil
for w = 1, tonumber(ARGV[11]) do
  local key = KEYS[2 + w]
  local start, expireAt = ARGV[at], ARGV[at + 1]
  local ops = tonumber(ARGV[at + 2])
  at = at + 3
  for _ = 1, ops do
    local op, field, value = ARGV[at], ARGV[at + 1], ARGV[at + 2]
    at = at + 3
    if op == 'i' then
      redis.call('HINCRBY', key, field, value)
    elseif op == 'f' then
      redis.call('HINCRBYFLOAT', key, field, value)
    else
      local current = redis.call('HGET', key, field)
      if not current or (op == 'n' and tonumber(value) < tonumber(current)) or (op == 'x' and tonumber(value) > tonumber(current)) then
        redis.call('HSET', key, field, value)
      end
    end
  end
  redis.call('PEXPIREAT', key, expireAt)
  local hlls = tonumber(ARGV[at])
  at = at + 1
  for _ = 1, hlls do
    local hll, count = KEYS[tonumber(ARGV[at])], tonumber(ARGV[at + 1])
    at = at + 2
    -- PFADD in slices: Lua's unpack is limited to a few thousand values.
    for from = at, at + count - 1, 500 do
      redis.call('PFADD', hll, unpack(ARGV, from, math.min(from + 499, at + count - 1)))
    end
    at = at + count
    redis.call('PEXPIREAT', hll, expireAt)
  end
  redis.call('ZADD', index, start, start)
  updated[#updated + 1] = start
  if not latestExpiry or tonumber(expireAt) > latestExpiry then latestExpiry = tonumber(expireAt) end
end

-- Windows past retention leave the index (their hashes expire by themselves at the same time).
redis.call('ZREMRANGEBYSCORE', index, '-inf', whole(now - size - retention))
if latestExpiry then
  if redis.call('PTTL', index) == -1 then
    redis.call('PEXPIREAT', index, whole(latestExpiry))
  else
    redis.call('PEXPIREAT', index, whole(latestExpiry), 'GT')
  end
end

redis.call('HSET', offsets, 'o:' .. partition, last, 't:' .. partition, whole(now))
if watermark ~= '' then redis.call('HSET', offsets, 'w:' .. partition, watermark) end

-- The series' watermark is the lowest of its partitions' (idle partitions aside), and never goes back.
local flat = redis.call('HGETALL', offsets)
local fields = {}
for i = 1, #flat, 2 do fields[flat[i]] = flat[i + 1] end
local lowest = nil
for field, value in pairs(fields) do
  if string.sub(field, 1, 2) == 'w:' then
    local p = string.sub(field, 3)
    local seen = tonumber(fields['t:' .. p] or '0')
    if p == partition or idle == 0 or seen >= now - idle then
      local wm = tonumber(value)
      if not lowest or wm < lowest then lowest = wm end
    end
  end
end
local before = fields['minwm'] and tonumber(fields['minwm']) or nil
local after = before
if lowest and (not before or lowest > before) then after = lowest end

local finals = {}
if after and after ~= before then
  redis.call('HSET', offsets, 'minwm', whole(after))
  local from = before and ('(' .. whole(before - size - grace)) or '-inf'
  finals = redis.call('ZRANGEBYSCORE', index, from, whole(after - size - grace))
end

if channel ~= '' then
  local final = {}
  for _, start in ipairs(finals) do final[start] = true end
  for _, start in ipairs(updated) do
    if not final[start] then
      redis.call('PUBLISH', channel, '{"name":' .. cjson.encode(name) .. ',"start":' .. start .. ',"final":false}')
    end
  end
  for _, start in ipairs(finals) do
    redis.call('PUBLISH', channel, '{"name":' .. cjson.encode(name) .. ',"start":' .. start .. ',"final":true}')
  end
end

return { 'ok', after and whole(after) or '', updated, finals }
