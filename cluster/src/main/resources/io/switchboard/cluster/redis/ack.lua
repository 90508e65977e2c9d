-- The client acknowledged every message up to ARGV[1]: drops them from the head of its stored messages (KEYS[1]),
-- at most ARGV[2] at a time, and their bytes from the count in its record (KEYS[2], field b: see push.lua).
-- Returns how many were dropped.
local upTo = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local n = 0
local popped = 0
while n < limit do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then break end
  local seq = tonumber(string.match(head, '^(%d+):'))
  if seq == nil or seq > upTo then break end
  redis.call('LPOP', KEYS[1])
  popped = popped + string.len(head)
  n = n + 1
end
-- (Only on a record that exists: a field written on none would make a record without an expiry.)
if popped > 0 and redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HINCRBY', KEYS[2], 'b', -popped) end
return n
