-- Claims a client for a node. KEYS[1] = the client's record (hash: n = node, e = epoch, s = last seq),
-- KEYS[2] = its stored messages (list of "seq:expiresAtMs:payload"), KEYS[3] = its MQTT QoS 2 packet ids received and
-- not released (a set, see qos2.lua), KEYS[4] = claims undone by unclaim.lua (a hash by token). ARGV[1] = the claiming
-- node, ARGV[2] = this claim's token, kept in the record (t, with the node whose claim this one replaced) so that the
-- node can undo the claim should it run after the node gave up waiting for it (held in a network partition, say: see
-- unclaim.lua).
-- The epoch only grows: from the clock (microseconds), or one more than the last when the clock is behind it, so
-- that it grows even after the record expired and was made again.
-- Returns {previous node or "", epoch, last seq, stored messages, unreleased QoS 2 packet ids}; {} when nothing
-- changed: the claim was voided before it ran, or it ran already (Lettuce sends a command again on a new connection
-- when the one it was written on broke before the answer; the node then undoes it, see RedisDirectory).
if redis.call('HEXISTS', KEYS[4], ARGV[2]) == 1 then
  return {}
end
local ran = redis.call('HGET', KEYS[1], 't')
if ran and string.sub(ran, 1, string.len(ARGV[2]) + 1) == ARGV[2] .. ' ' then
  return {}
end
local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local h = redis.call('HMGET', KEYS[1], 'n', 'e', 's')
local e = tonumber(h[2] or '0')
if e < nowUs then e = nowUs else e = e + 1 end
local epoch = string.format('%.0f', e)
redis.call('HSET', KEYS[1], 'n', ARGV[1], 'e', epoch, 't', ARGV[2] .. ' ' .. (h[1] or ''))
redis.call('HDEL', KEYS[1], 'k') -- this claim gets every stored message (see push.lua)
redis.call('PERSIST', KEYS[1])
return {h[1] or '', epoch, h[3] or '0', redis.call('LRANGE', KEYS[2], 0, -1), redis.call('SMEMBERS', KEYS[3])}
