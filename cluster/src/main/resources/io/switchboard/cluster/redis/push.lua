-- A push for a client the calling node does not hold. KEYS[1] = record, KEYS[2] = stored messages.
-- ARGV[1] = a claim known not to hold the client, "node epoch" ("" for none): it counts as none (its node died, or
-- said the client is not there); a newer claim, of the same node too (the client came back to it), still holds it,
-- ARGV[2] = ttl in ms ("0": not kept), ARGV[3] = payload, ARGV[4] = stored messages a client may have,
-- ARGV[5] = "1" when a new client's seqs start from the clock, ARGV[6] = ms an offline client's record is kept,
-- ARGV[7] = the gateway's clock in ms (expiry and seqs are in the gateways' time, as their sessions' are),
-- ARGV[8] = bytes of stored messages a client may have (--max-queued-bytes; the record's field b counts them: each
-- entry's length, kept by push.lua, append.lua and ack.lua; nothing stored means 0, whatever b says, as when the list
-- expired whole).
-- Returns {1, node, epoch}: held by that claim, push there; {2}: offline and not kept (ttl 0);
-- {3}: its stored messages are full; {0, seq}: kept for the offline client under seq.
local h = redis.call('HMGET', KEYS[1], 'n', 's', 'e')
if h[1] and h[1] .. ' ' .. (h[3] or '') ~= ARGV[1] then
  return {1, h[1], h[3] or ''}
end
if ARGV[2] == '0' then
  return {2}
end
local nowMs = tonumber(ARGV[7])
-- Expired messages at the head leave first (at most 100 a push): counted, they filled the queue of a client away for
-- long (pushes of one ttl, each stretching the list's life) with messages nobody will get, and its pushes got {3}.
-- Behind a live one (a longer ttl before shorter ones) they stay until an ACK or the list's own expiry.
local popped = 0
for _ = 1, 100 do
  local head = redis.call('LINDEX', KEYS[2], 0)
  if not head then break end
  local expiresAtMs = tonumber(string.match(head, '^%d+:(%d+):'))
  if expiresAtMs == nil or nowMs < expiresAtMs then break end
  redis.call('LPOP', KEYS[2])
  popped = popped + string.len(head)
end
-- (Only on a record that exists: a field written on none would make a record without an expiry.)
if popped > 0 and redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'b', -popped) end
local stored = redis.call('LLEN', KEYS[2])
if stored >= tonumber(ARGV[4]) then
  return {3}
end
local storedBytes = 0
-- (Below 0 for a list from before the count, whose entries ack.lua took away uncounted: as 0 until it empties.)
if stored > 0 then storedBytes = math.max(0, tonumber(redis.call('HGET', KEYS[1], 'b') or '0')) end
-- At least one message, however large (within --max-payload): the bound is on what piles up.
if stored > 0 and storedBytes + string.len(ARGV[3]) > tonumber(ARGV[8]) then
  return {3}
end
local s = tonumber(h[2] or '0')
-- From the clock, as a new session's seqs: above any seq a node that died gave without writing it here.
if ARGV[5] == '1' and s < nowMs * 1000 then s = nowMs * 1000 end
local seq = string.format('%.0f', s + 1)
local ttl = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 's', seq)
-- Kept for the claim of epoch e, taken for none or released: its node, if it still holds the client under it (it
-- was paused, or cut off from Redis, past its lease, maybe forgotten and its claims released), sends the client to
-- resume it (reclaim.lua). A new claim clears the mark.
if h[3] then redis.call('HSET', KEYS[1], 'k', h[3]) end
local entry = seq .. ':' .. string.format('%.0f', nowMs + ttl) .. ':' .. ARGV[3]
redis.call('RPUSH', KEYS[2], entry)
if stored == 0 then redis.call('HSET', KEYS[1], 'b', 0) end
redis.call('HINCRBY', KEYS[1], 'b', string.len(entry))
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
local keep = tonumber(ARGV[6])
if ttl > keep then keep = ttl end
if h[1] == false and redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return {0, seq}
