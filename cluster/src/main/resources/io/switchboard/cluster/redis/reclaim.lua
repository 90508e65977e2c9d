-- Puts back the claim of a client this node still holds, after Redis lost it (restarted empty, or failed over to a
-- replica that had not seen it). KEYS[1] = the client's record. ARGV[1] = node, ARGV[2] = the epoch of its claim,
-- ARGV[3] = the session's last seq.
-- Only where no node holds the client now: a claim made since (on any node) is newer and stays. A record a push made
-- meanwhile for the client, taken for offline, gets the owner back (its stored messages wait for the next resume).
-- Returns 1 when put back, 0 when another claim holds the client.
local h = redis.call('HMGET', KEYS[1], 'n', 's')
if h[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'n', ARGV[1], 'e', ARGV[2])
if tonumber(ARGV[3]) > tonumber(h[2] or '0') then
  redis.call('HSET', KEYS[1], 's', ARGV[3])
end
redis.call('PERSIST', KEYS[1])
return 1
