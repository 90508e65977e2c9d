-- Records a forgotten node's sweep in the hash of sweeps (ForgottenNodeSweep), only if it still reads as the caller
-- last saw it, so that one node at a time carries each sweep on. KEYS[1] = the sweeps hash, KEYS[2] = the lease of
-- the node that the entry names as sweeping. ARGV[1] = the forgotten node, ARGV[2] = the entry as last seen,
-- ARGV[3] = the new entry ('' removes it), ARGV[4] = '1' to take the sweep over: only while KEYS[2] does not exist.
-- Returns 1 when written, 0 when the entry changed meanwhile (another node carries it on) or its sweeper is alive.
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 1
