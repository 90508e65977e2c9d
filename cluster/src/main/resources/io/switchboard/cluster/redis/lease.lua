-- A node's lease, kept or given up only by the process that holds it (or when nobody does): a process taken for dead
-- (paused, or cut off from Redis, for longer than the lease) whose node a new process took over must not take the
-- lease back, nor remove it as it leaves. KEYS[1] = the lease; ARGV[1] = this process,
-- ARGV[2] = ms to hold it for, or "0" to give it up.
-- Returns "" when done, "lapsed" when kept again after it had lapsed (the other nodes took this one for dead
-- meanwhile), else the process that holds the lease now (this one was replaced).
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return holder
end
if ARGV[2] == '0' then
  redis.call('DEL', KEYS[1])
  return ''
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if holder then
  return ''
end
return 'lapsed'
