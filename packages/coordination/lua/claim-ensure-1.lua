--[[
  Keeps a task claim: renews it when ours, takes it when free.
  keys:  1 the claim key
  args:  1 our owner id, 2 the TTL in milliseconds
  reply: {'renewed', owner}, {'claimed', owner}, or {'held', other owner}
]]
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'renewed', ARGV[1]}
end
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {'claimed', ARGV[1]}
end
return {'held', current}
