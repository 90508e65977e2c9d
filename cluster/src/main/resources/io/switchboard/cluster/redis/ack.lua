-- The client acknowledged every message up to ARGV[1]: drops them from the head of its stored messages (KEYS[1]),
-- at most ARGV[2] at a time. Returns how many were dropped.
local upTo = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local n = 0
while n < limit do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then break end
  local seq = tonumber(string.match(head, '^(%d+):'))
  if seq == nil or seq > upTo then break end
  redis.call('LPOP', KEYS[1])
  n = n + 1
end
return n
