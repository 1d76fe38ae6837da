--[[
  Reads the server clock of the node that owns KEYS[1], so every client of a
  Cluster asks the same node (TIME alone would go to any node).
  keys:  1 any key in the slot of the reference node (never read or written)
  args:  none
  reply: {seconds, microseconds}, as TIME replies
]]
return redis.call('TIME')
