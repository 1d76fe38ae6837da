--[[
  Opens (or extends) a transaction's horizon on one table: while any horizon
  of a table is open, readers of the table bypass the cache. Times are Redis's
  clock; members past their deadline (a crashed writer) are dropped.
  keys:  1 the table's horizon set (a sorted set: member = transaction id, score = deadline ms)
  args:  1 the transaction id, 2 how long the horizon stays open at most, ms
  reply: the number of open horizons of the table, this one included
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], tonumber(last[2]))
return redis.call('ZCARD', KEYS[1])
