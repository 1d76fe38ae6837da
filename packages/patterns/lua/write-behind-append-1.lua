--[[
  Appends one write to the write-behind journal, unless the journal already
  holds `max` unflushed entries: the writer is refused rather than an entry
  dropped (XADD MAXLEN would trim writes that were acknowledged but not flushed).
  Acknowledged entries are XDELed, so XLEN counts only unflushed ones.
  keys:  1 the journal stream
  args:  1 the most unflushed entries allowed, 2 the key, 3 the op ('s' set, 'd' delete),
         4 the encoded value ('' for a delete), 5 when the write happened, ms
  reply: {1, entry id} when appended, {0, current length} when the journal is full
]]
local length = redis.call('XLEN', KEYS[1])
if length >= tonumber(ARGV[1]) then
  return {0, length}
end
local id = redis.call('XADD', KEYS[1], '*', 'k', ARGV[2], 'o', ARGV[3], 'v', ARGV[4], 't', ARGV[5])
return {1, id}
