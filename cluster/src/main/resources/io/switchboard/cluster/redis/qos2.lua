-- An MQTT QoS 2 message a client's session received and delivered, not released yet. KEYS[1] = the client's set of
-- such packet ids. ARGV[1] = the packet id, ARGV[2] = how long the set is kept from now (ms). Both in one step: a set
-- left without an expiry would outlive the session and make a later session's new message look like a resend.
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
