package io.switchboard.config;

import io.switchboard.clock.Clock;
import io.switchboard.auth.Authenticator;
import io.switchboard.transport.Transport;
import io.switchboard.upstream.UpstreamSink;

/**
 * Every gateway setting with its default; the command line fills it, tests set fields directly.
 * {@link #validate()} names the offending option in one line. Built once before start, then read-only.
 */
public final class ServerConfig {
    // Listening
    public String bind = "0.0.0.0";
    public int port = 7000;
    public Transport transport = Transport.EPOLL;
    public int eventLoops = Runtime.getRuntime().availableProcessors();
    public boolean reusePort = false;
    public int backlog = 4096;
    public String nodeName = null;
    /**
     * Every client connection starts with a PROXY protocol header (v1 or v2), as a layer-4 proxy in front sends it:
     * admission limits, logs and the API use the client address it announces. Off: the TCP peer is the client.
     */
    public boolean acceptProxy = false;
    /** Seconds a connection has to send its complete PROXY header (with {@link #acceptProxy}). */
    public int acceptProxyTimeoutSec = 10;

    // Backend API
    public String apiBind = "127.0.0.1";
    public int apiPort = 8080;
    public String apiToken = null;

    // Auth and upstream
    public Authenticator authenticator = Authenticator.NONE;
    public UpstreamSink upstream = UpstreamSink.NONE;
    public int maxPendingSendsPerClient = 64;
    public int maxSubscriptionsPerClient = 100;

    // Protocol limits
    public int handshakeTimeoutSec = 10;
    public int heartbeatDefaultSec = 60;
    public int heartbeatMinSec = 5;
    public int heartbeatMaxSec = 3600;
    public int idleGraceSec = 10;
    public int maxLineBytes = 1024;
    public int maxPayloadBytes = 64 * 1024;

    // Delivery
    public int windowMessages = 128;
    public int maxQueuedMessagesPerClient = 1000;
    public long maxQueuedBytesPerClient = 1024 * 1024;
    public int maxTtlSec = 7 * 24 * 3600;
    /**
     * A new session's seq numbers start from the clock (true, the default: a resume from an older session of the
     * same client can never hide new messages) or from 0 (seq 1, 2, 3 for every new session: easier to read by
     * hand, but a client that resumes from a forgotten session may miss messages pushed while it was away).
     */
    public boolean seqOriginFromClock = true;
    /** Offline clients kept for their retained messages, at most; a retained push to one more gets 429. */
    public int maxOfflineSessions = 1_000_000;
    public int writeBufferLowBytes = 32 * 1024;
    public int writeBufferHighBytes = 64 * 1024;

    // Protection
    public int maxConnections = 1_000_000;
    public int maxConnectionsPerIp = 0;
    public int acceptRatePerSec = 0;

    // TCP keepalive (seconds; 0 = kernel default) and TCP_USER_TIMEOUT (ms; 0 = off)
    public boolean tcpKeepalive = true;
    public int tcpKeepIdleSec = 120;
    public int tcpKeepIntervalSec = 30;
    public int tcpKeepCount = 4;
    public int tcpUserTimeoutMs = 0;

    // Drain
    public int drainPeriodSec = 10;
    public int reconnectSpreadMs = 30_000;

    // Time
    public Clock clock = Clock.SYSTEM;

    /** Checks every setting; throws {@link IllegalArgumentException} naming the option and the accepted range. */
    public ServerConfig validate() {
        range("--port", port, 0, 65535);
        range("--api-port", apiPort, 0, 65535);
        range("--event-loops", eventLoops, 1, 1024);
        range("--backlog", backlog, 1, 1 << 20);
        range("--accept-proxy-timeout", acceptProxyTimeoutSec, 1, 3600);
        range("--handshake-timeout", handshakeTimeoutSec, 1, 3600);
        range("--hb-min", heartbeatMinSec, 1, 86_400);
        range("--hb-max", heartbeatMaxSec, heartbeatMinSec, 86_400);
        range("--hb-default", heartbeatDefaultSec, 0, heartbeatMaxSec);
        range("--idle-grace", idleGraceSec, 0, 3600);
        range("--max-line", maxLineBytes, 64, 64 * 1024);
        range("--max-payload", maxPayloadBytes, 1, 16 * 1024 * 1024);
        range("--window", windowMessages, 1, 65_536);
        range("--max-queued", maxQueuedMessagesPerClient, 1, 10_000_000);
        if (maxQueuedBytesPerClient < maxPayloadBytes) {
            throw new IllegalArgumentException("--max-queued-bytes (" + maxQueuedBytesPerClient
                    + ") must be at least --max-payload (" + maxPayloadBytes + ")");
        }
        range("--max-ttl", maxTtlSec, 0, 365 * 86_400);
        range("--max-offline-sessions", maxOfflineSessions, 0, Integer.MAX_VALUE);
        range("--max-connections", maxConnections, 1, Integer.MAX_VALUE);
        range("--max-connections-per-ip", maxConnectionsPerIp, 0, Integer.MAX_VALUE);
        range("--accept-rate", acceptRatePerSec, 0, Integer.MAX_VALUE);
        range("--max-pending-sends", maxPendingSendsPerClient, 1, Short.MAX_VALUE);
        range("--max-subscriptions", maxSubscriptionsPerClient, 0, 100_000);
        range("--tcp-keepidle", tcpKeepIdleSec, 0, 32_767);
        range("--tcp-keepintvl", tcpKeepIntervalSec, 0, 32_767);
        range("--tcp-keepcnt", tcpKeepCount, 0, 127);
        range("--tcp-user-timeout", tcpUserTimeoutMs, 0, Integer.MAX_VALUE);
        range("--drain-period", drainPeriodSec, 0, 3600);
        range("--reconnect-spread", reconnectSpreadMs, 0, 3_600_000);
        if (writeBufferLowBytes <= 0 || writeBufferHighBytes < writeBufferLowBytes) {
            throw new IllegalArgumentException("write buffer watermarks must satisfy 0 < low <= high");
        }
        if (nodeName != null && !io.switchboard.swb.SwbIds.isValid(nodeName)) {
            throw new IllegalArgumentException("--node must be 1-128 characters of [A-Za-z0-9._:@-]");
        }
        return this;
    }

    /** Clamps a heartbeat a client asked for to the server's limits; 0 stays 0 (no application heartbeats). */
    public int clampHeartbeat(int requestedSec) {
        if (requestedSec < 0) {
            return heartbeatDefaultSec;
        }
        if (requestedSec == 0) {
            return 0;
        }
        return Math.max(heartbeatMinSec, Math.min(heartbeatMaxSec, requestedSec));
    }

    private static void range(String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ", not " + value);
        }
    }
}
