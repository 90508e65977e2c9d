-- Undoes a claim its node gave up on: the node's wait for it timed out, so the node refused the client's connection
-- and holds no session for it, but Redis may still run the claim, or have run it, after the node stopped waiting
-- (its bytes held in a network partition, say). Left in place, such a claim names a node that does not hold the
-- client: pushes for it are kept as for an offline client while the client stays connected elsewhere, under the
-- claim this one replaced, and never told. KEYS[1] = record, KEYS[2] = stored messages, KEYS[3] = the answers given
-- to undone claims (a hash: token -> "epoch node" when released, 0 when voided). ARGV[1] = node, ARGV[2] = the claim's token,
-- ARGV[3] = ms an offline client's record is kept, ARGV[4] = ms an answer is remembered (longer than a command can
-- be held on its way).
-- Returns {1, epoch, node}: the claim ran and no claim came since: released, as its connection's end would; the
-- node then tells the node whose claim it replaced (and every node it knows alive) to let go of a session of the
-- client older than that epoch (TakenOver), so that the client connects again and its claim reads what was kept
-- meanwhile. {0}: a newer claim replaced it, or it has not run: voided, so that it does nothing when it does
-- (claim.lua). A second call gives the first one's answer (that answer may have been lost on its way).
local done = redis.call('HGET', KEYS[3], ARGV[2])
if done then
  if done == '0' then return {0} end
  local epoch, node = string.match(done, '^(%d+) (.*)$')
  return {1, epoch, node}
end
local h = redis.call('HMGET', KEYS[1], 'n', 'e', 't')
local answer = '0'
local mine = ARGV[2] .. ' '
if h[1] == ARGV[1] and h[3] and string.sub(h[3], 1, string.len(mine)) == mine then
  redis.call('HDEL', KEYS[1], 'n', 't')
  local keep = tonumber(ARGV[3])
  local stored = redis.call('PTTL', KEYS[2])
  if stored > keep then keep = stored end
  redis.call('PEXPIRE', KEYS[1], keep)
  answer = h[2] .. ' ' .. string.sub(h[3], string.len(mine) + 1)
end
redis.call('HSET', KEYS[3], ARGV[2], answer)
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[4]))
if answer == '0' then return {0} end
return {1, h[2], string.sub(h[3], string.len(mine) + 1)}
