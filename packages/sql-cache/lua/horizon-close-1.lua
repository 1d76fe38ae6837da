--[[
  Closes a transaction's horizon on one table (after its invalidation, or on rollback).
  keys:  1 the table's horizon set
  args:  1 the transaction id
  reply: the number of horizons of the table still open
]]
redis.call('ZREM', KEYS[1], ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
