-- A retained message that expired: removed from the cluster's hash, only if it is still that message (a newer one
-- retained since on any node stays). KEYS[1] = the hash of retained messages. ARGV[1] = the topic, ARGV[2] = the
-- expired message's value as the hash holds it. Returns 1 when it was removed.
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
