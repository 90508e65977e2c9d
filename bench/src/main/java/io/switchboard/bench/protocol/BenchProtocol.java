package io.switchboard.bench.protocol;

import io.netty.channel.ChannelHandler;
import java.util.List;

/**
 * What the bench clients speak, so that the same run holds the same connections on Switchboard and on its peers.
 * Makes one handler per connection (a {@link BenchConnection}). Stateless; any thread.
 */
@FunctionalInterface
public interface BenchProtocol {
    /** The names {@link #parse} accepts. */
    List<String> NAMES = List.of("swb", "raw", "mqtt", "redis", "nats", "ws", "ws-mqtt");

    /**
     * The handler for a new connection of client {@code clientId}, reporting to {@code env} (its event loop's) and
     * heart-beating every {@code hbSec} seconds when idle; {@code connectStartNs} ({@link System#nanoTime()})
     * starts its handshake latency.
     */
    ChannelHandler newHandler(BenchEnv env, String clientId, int hbSec, long connectStartNs);

    /**
     * {@code swb}, {@code raw}, {@code mqtt}, {@code redis}, {@code nats}, {@code ws} (SWB/1 over WebSocket on
     * {@code /swb}) or {@code ws-mqtt} (MQTT over WebSocket on {@code /mqtt}); {@code echoCheck} (raw only, needs a
     * heartbeat) makes raw clients send a probe every {@code hbSec} and check that it comes back.
     *
     * @throws IllegalArgumentException naming the option at fault
     */
    static BenchProtocol parse(String name, boolean echoCheck, int hbSec) {
        return parse(name, echoCheck, hbSec, false, DEFAULT_ACK_EVERY, DEFAULT_ACK_DELAY_MS);
    }

    /** SWB/1 clients acknowledge once this many messages wait, as the client library does by default. */
    int DEFAULT_ACK_EVERY = 32;
    /** ... or this long after the oldest unacknowledged one. */
    long DEFAULT_ACK_DELAY_MS = 1_000;

    /**
     * As {@link #parse(String, boolean, int)}; with {@code broadcastToo} the peers' clients (mqtt, redis, nats) also
     * subscribe to the broadcast channel ({@link BenchConnection#BROADCAST_ID}), as a run timing their fan-out needs;
     * SWB/1 clients (swb, ws) acknowledge once {@code ackEvery} messages wait or {@code ackDelayMs} after the oldest
     * (0: every read batch).
     */
    static BenchProtocol parse(String name, boolean echoCheck, int hbSec, boolean broadcastToo, int ackEvery,
                               long ackDelayMs) {
        if (ackEvery < 1 || ackDelayMs < 0) {
            throw new IllegalArgumentException("--ack-every must be at least 1 and --ack-delay not negative");
        }
        if (echoCheck && !"raw".equals(name)) {
            throw new IllegalArgumentException("--echo-check works with --protocol raw only");
        }
        if (echoCheck && hbSec < 1) {
            throw new IllegalArgumentException("--echo-check sends a probe every --hb seconds: --hb must be positive");
        }
        return switch (name) {
            case "swb" -> (env, id, hb, start) -> new SwbBenchConnection(env, id, hb, start, ackEvery, ackDelayMs);
            case "raw" -> (env, id, hb, start) -> new RawBenchConnection(env, id, hb, start, echoCheck);
            case "mqtt" -> (env, id, hb, start) -> new MqttBenchConnection(env, id, hb, start, broadcastToo);
            case "redis" -> (env, id, hb, start) -> new RedisBenchConnection(env, id, hb, start, broadcastToo);
            case "nats" -> (env, id, hb, start) -> new NatsBenchConnection(env, id, hb, start, broadcastToo);
            case "ws" -> (env, id, hb, start) -> WebSocketClientFraming.over("/swb", null,
                    new SwbBenchConnection(env, id, hb, start, ackEvery, ackDelayMs));
            case "ws-mqtt" -> (env, id, hb, start) -> WebSocketClientFraming.over("/mqtt", "mqtt",
                    new MqttBenchConnection(env, id, hb, start, false));
            default -> throw new IllegalArgumentException("--protocol must be one of " + String.join(", ", NAMES)
                    + ", not '" + name + "'");
        };
    }
}
