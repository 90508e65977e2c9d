-- Puts back the claim of a client this node still holds, after Redis lost it (restarted empty, or failed over to a
-- replica that had not seen it), and checks it after this node's lease lapsed (other nodes took the node for dead).
-- KEYS[1] = the client's record, KEYS[2] = its stored messages. ARGV[1] = node, ARGV[2] = the epoch of its claim,
-- ARGV[3] = the session's last seq.
-- Only where no newer claim was made: one made since (on any node, held or released since) stays and this session
-- was taken over; an older one (a replica behind, or a record of before this claim) is replaced. A record a push
-- made meanwhile for the client, taken for offline, gets the owner back.
-- Returns {1} when put back, {3} when the claim was there, {0, epoch} when a newer claim was made (under that
-- epoch), {2} when the claim is (now) this one but a stored message the session was not given waits (a seq above
-- ARGV[3]: kept for the client taken for offline meanwhile; the client must resume to get it).
local h = redis.call('HMGET', KEYS[1], 'n', 's', 'e')
local ours = h[1] == ARGV[1] and h[3] == ARGV[2]
if not ours and tonumber(h[3] or '0') > tonumber(ARGV[2]) then
  return {0, h[3]}
end
local code = 3
if not ours then
  redis.call('HSET', KEYS[1], 'n', ARGV[1], 'e', ARGV[2])
  redis.call('PERSIST', KEYS[1])
  code = 1
end
if tonumber(ARGV[3]) > tonumber(h[2] or '0') then
  redis.call('HSET', KEYS[1], 's', ARGV[3])
end
local tail = redis.call('LINDEX', KEYS[2], -1)
if tail then
  local seq = tonumber(string.match(tail, '^(%d+):'))
  if seq and seq > tonumber(ARGV[3]) then
    return {2}
  end
end
return {code}
