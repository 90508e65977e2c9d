-- Releases a client when its connection ended, only if the claim is still this node's under this epoch: a late
-- release from an old connection never removes a newer owner. KEYS[1] = record, KEYS[2] = stored messages.
-- ARGV[1] = node, ARGV[2] = epoch, ARGV[3] = the session's last seq, ARGV[4] = ms an offline client's record is kept.
-- Returns 1 when released, 0 when a newer claim holds the client.
local h = redis.call('HMGET', KEYS[1], 'n', 'e', 's')
if h[1] ~= ARGV[1] or h[2] ~= ARGV[2] then
  return 0
end
redis.call('HDEL', KEYS[1], 'n', 't')
if tonumber(ARGV[3]) > tonumber(h[3] or '0') then
  redis.call('HSET', KEYS[1], 's', ARGV[3])
end
local keep = tonumber(ARGV[4])
local stored = redis.call('PTTL', KEYS[2])
if stored > keep then keep = stored end
redis.call('PEXPIRE', KEYS[1], keep)
return 1
