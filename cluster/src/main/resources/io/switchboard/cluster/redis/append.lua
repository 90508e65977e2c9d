-- Keeps a stored message pushed to a client this node holds, only while the claim is still this node's under this
-- epoch (a node that lost the client never writes beside its new owner). KEYS[1] = record, KEYS[2] = stored
-- messages. ARGV[1] = node, ARGV[2] = epoch, ARGV[3] = seq, ARGV[4] = expiresAtMs, ARGV[5] = payload,
-- ARGV[6] = ttl in ms. Returns 1 when kept, 0 when fenced off, 2 when another node kept a message for this claim
-- while this node was taken for dead (push.lua's mark): its seq is above this one's, so the session must resume it
-- before it takes more, or the answers' order and the seqs' would part.
local h = redis.call('HMGET', KEYS[1], 'n', 'e', 's', 'k')
if h[1] ~= ARGV[1] or h[2] ~= ARGV[2] then
  return 0
end
if h[4] == ARGV[2] then
  return 2
end
local entry = ARGV[3] .. ':' .. ARGV[4] .. ':' .. ARGV[5]
if redis.call('RPUSH', KEYS[2], entry) == 1 then redis.call('HSET', KEYS[1], 'b', 0) end
redis.call('HINCRBY', KEYS[1], 'b', string.len(entry)) -- the stored bytes push.lua bounds
if tonumber(ARGV[3]) > tonumber(h[3] or '0') then
  redis.call('HSET', KEYS[1], 's', ARGV[3])
end
local ttl = tonumber(ARGV[6])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
