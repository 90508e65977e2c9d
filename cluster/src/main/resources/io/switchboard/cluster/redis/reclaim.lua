-- Puts back the claim of a client this node still holds, after Redis lost it (restarted empty, or failed over to a
-- replica that had not seen it), and checks it after this node's lease lapsed (other nodes took the node for dead).
-- KEYS[1] = the client's record, KEYS[2] = its stored messages. ARGV[1] = node, ARGV[2] = the epoch of its claim,
-- ARGV[3] = the session's last seq (as read a moment ago), ARGV[4] = the gateway's clock in ms.
-- Only where no newer claim was made: one made since (on any node, held or released since) stays and this session
-- was taken over; an older one (a replica behind, or a record of before this claim) is replaced. A record a push
-- made meanwhile for the client, taken for offline, gets the owner back.
-- Returns {code, value, node whose older claim was replaced or ''}: code 1 put back, 3 the claim was there,
-- 0 a newer claim was made (value: its epoch), 2 the claim is (now) this one but a stored message the session was
-- not given waits, so the client must resume to get it: kept beside this very claim (push.lua marked it; value 0),
-- or an unexpired one with a seq above ARGV[3] (value: that seq; the session may have given it since its read).
local h = redis.call('HMGET', KEYS[1], 'n', 's', 'e', 'k')
local ours = h[1] == ARGV[1] and h[3] == ARGV[2]
if not ours and tonumber(h[3] or '0') > tonumber(ARGV[2]) then
  return {0, h[3], ''}
end
local code = 3
local replaced = ''
if not ours then
  if h[1] and h[1] ~= ARGV[1] then replaced = h[1] end
  redis.call('HSET', KEYS[1], 'n', ARGV[1], 'e', ARGV[2])
  redis.call('HDEL', KEYS[1], 't') -- no claim's token: unclaim.lua leaves this one alone
  redis.call('PERSIST', KEYS[1])
  code = 1
end
if tonumber(ARGV[3]) > tonumber(h[2] or '0') then
  redis.call('HSET', KEYS[1], 's', ARGV[3])
end
-- The mark stays until the next claim clears it: while it is there, the session under this claim takes no stored
-- push of its own (append.lua), since its seqs would run below the kept message's.
if h[4] == ARGV[2] then
  return {2, '0', replaced}
end
local tail = redis.call('LINDEX', KEYS[2], -1)
if tail then
  local seq, expires = string.match(tail, '^(%d+):(%d+):')
  if seq and tonumber(seq) > tonumber(ARGV[3]) and tonumber(expires) > tonumber(ARGV[4]) then
    return {2, seq, replaced}
  end
end
return {code, '0', replaced}
