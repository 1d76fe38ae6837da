--[[
  Takes back a write-back found to have raced an invalidation (on Cluster,
  where the invalidation markers live in other slots and are read after the
  write): deletes the entry only if it still holds the bytes written.
  keys:  1 the entry
  args:  1 the bytes written
  reply: 1 when deleted, 0 when the key holds something else by now
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
