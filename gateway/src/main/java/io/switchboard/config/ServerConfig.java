package io.switchboard.config;

import io.switchboard.doctor.OpenFileLimit;
import io.switchboard.options.CidrList;
import io.switchboard.options.ListenerOptions;
import io.switchboard.options.Ranges;
import io.switchboard.options.Sizes;
import io.switchboard.store.disk.DiskStore;
import io.switchboard.transport.Transport;
import java.util.OptionalLong;
import picocli.CommandLine.Option;

/**
 * Every gateway setting, immutable and valid: made by {@link Builder#build()}, which checks every setting and names
 * the offending option in one line. Each setting is declared once, on {@link Builder} (and {@link ListenerOptions}):
 * its option name, description, unit (in the field name) and default; {@link #DEFAULTS} holds the defaults for
 * whoever wants to show or compare them. Services (authenticator, upstream, clock) are not settings: they travel
 * separately ({@link GatewayServices}). Safe to share between threads.
 */
public final class ServerConfig {
    /** Every setting at its default. */
    public static final ServerConfig DEFAULTS = new Builder().build();

    // Listening
    public final String bind;
    public final int port;
    public final Transport transport;
    public final int eventLoops;
    public final boolean reusePort;
    public final int backlog;
    public final String nodeName;
    /** {@code redis://HOST:PORT} or {@code rediss://...}: share the clients with other nodes; null = one process. */
    public final String cluster;
    /** The cluster Redis's password (a secret: never print it), or null. */
    public final String clusterPassword;
    /** Milliseconds any one Redis command may take before what waits on it fails (503). */
    public final int clusterTimeoutMs;
    /** PEM certificates trusted for a {@code rediss://} cluster's Redis; null: the JDK's trust store. */
    public final String clusterTlsCa;
    /** Whether nodes take requests from each other on direct links ({@code --cluster-link}, not {@code off}). */
    public final boolean clusterLinks;
    /** The address a node's link listens on; null: the one this host reaches Redis from. */
    public final String clusterLinkHost;
    /** The port a node's link listens on; 0: one the system picks. */
    public final int clusterLinkPort;
    /**
     * Every client connection starts with a PROXY protocol header (v1 or v2), as a layer-4 proxy in front sends it:
     * admission limits, logs and the API use the client address it announces. Off: the TCP peer is the client.
     */
    public final boolean acceptProxy;
    /** Seconds a connection has to send its complete PROXY header (with {@link #acceptProxy}). */
    public final int acceptProxyTimeoutSec;
    /**
     * The peers trusted to send a PROXY header (with {@link #acceptProxy}): anyone else could announce any address
     * and so escape the per-address limit; their connections are refused.
     */
    public final String acceptProxyFrom;
    /** {@link #acceptProxyFrom} parsed. */
    private final CidrList trustedProxies;

    // Backend API
    public final String apiBind;
    public final int apiPort;
    /** Null: the API needs no token. A secret: never print it. */
    public final String apiToken;
    public final int apiMaxConnections;
    public final int apiHeaderTimeoutSec;
    public final int apiBodyTimeoutSec;
    public final int apiIdleTimeoutSec;
    /** API connections are served on the client loops (true) or on one loop of their own. */
    public final boolean apiOnClientLoops;
    /** HTTP/2 requests one API connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
    public final int apiMaxStreams;
    /** MiB of request bodies the API holds while they arrive, all connections together. */
    public final int apiMaxBodyMemoryMib;
    /** TLS on the API (null: plain HTTP/1.1 and h2c); h2 or HTTP/1.1 by ALPN. PEM chain and PKCS#8 key. */
    public final java.nio.file.Path apiTlsCert;
    public final java.nio.file.Path apiTlsKey;
    /** The API may listen on a non-loopback address without a token. */
    public final boolean apiInsecure;

    // Auth and upstream: the settings; the services made from them are {@link GatewayServices}
    /** {@code none} or {@code jwt}. */
    public final String auth;
    /** A secret: never print it. */
    public final String jwtSecret;
    public final String jwtPublicKey;
    public final int jwtLeewaySec;
    /** What a token's {@code aud} must name, or null: a token must carry none. */
    public final String jwtAudience;
    /** What a token's {@code iss} must be, or null: not checked. */
    public final String jwtIssuer;
    /** {@code webhook:URL}, or null: SENDs get NACK 503. */
    public final String upstreamUrl;
    /** A secret, sent to the webhook as {@code Authorization: Bearer}: never print it. Null: none. */
    public final String upstreamToken;
    /** Webhook batches posted or waiting for a retry at once (1 keeps the order of every client's messages). */
    public final int upstreamInFlight;
    /** Seconds one webhook POST may take (connect included) before it is retried. */
    public final int upstreamTimeoutSec;
    /** POSTs of one webhook batch at most, the first included, before its messages are refused 503. */
    public final int upstreamAttempts;
    /** Messages per webhook POST at most. */
    public final int upstreamMaxBatch;
    public final int maxPendingSendsPerClient;
    /** Frames a second a client may send (every protocol); 0 = no limit. */
    public final int clientRate;
    /** Frames a client may save up beyond a second's worth. */
    public final int clientBurst;
    /** Seconds in a row over {@link #clientRate} before the client is closed with 429; 0 = never. */
    public final int clientRateGraceSec;
    public final int maxSubscriptionsPerClient;

    // Protocol limits
    public final int handshakeTimeoutSec;
    public final int heartbeatDefaultSec;
    public final int heartbeatMinSec;
    public final int heartbeatMaxSec;
    public final int idleGraceSec;
    public final int maxLineBytes;
    public final int maxPayloadBytes;

    // Delivery
    public final int windowMessages;
    public final int maxQueuedMessagesPerClient;
    public final long maxQueuedBytesPerClient;
    /**
     * Bytes queued for all clients together (payloads, and 64 per message), online and offline; a push beyond gets 503 instead of running the
     * heap out. Defaults to a quarter of the maximum heap.
     */
    public final long maxQueuedTotalBytes;
    public final int maxTtlSec;
    /**
     * A new session's seq numbers start from the clock (true, the default: a resume from an older session of the
     * same client can never hide new messages) or from 0 (seq 1, 2, 3 for every new session: easier to read by
     * hand, but a client that resumes from a forgotten session may miss messages pushed while it was away).
     */
    public final boolean seqOriginFromClock;
    /** Offline clients kept for their stored messages, at most; a stored push (ttl > 0) to one more gets 429. */
    public final int maxOfflineSessions;

    // MQTT
    /** The MQTT listener's port on {@link #bind}; -1 = no MQTT listener. */
    public final int mqttPort;
    /** The topic a push to a client is published on to an MQTT client; {@code {id}} stands for its client id. */
    public final String mqttPushTopic;

    // Stored messages (ttl > 0)
    /** {@code disk} (kept across restarts, the default) or {@code memory} (lost with the process). */
    public final String store;
    /** The disk store's directory (with {@code store = disk}). */
    public final java.nio.file.Path dataDir;
    /** What a 200 for a stored push promises (with {@code store = disk}). */
    public final DiskStore.Fsync storeFsync;
    public final int storeFsyncIntervalMs;
    /** A segment file is sealed past this size. */
    public final long storeSegmentBytes;
    /** Live stored bytes kept at most (pushes beyond get 507); 0 = a quarter of the free space at start. */
    public final long maxStoreBytes;
    /** Half of {@link #writeBufferHighBytes}, at least 1. */
    public final int writeBufferLowBytes;
    public final int writeBufferHighBytes;

    // WebSocket
    /** The WebSocket listener's port on {@link #bind} ({@code /swb} and {@code /mqtt}); -1 = none. */
    public final int wsPort;
    /**
     * Origins a browser may open a WebSocket from: empty = the page's own (its Origin names the Host it connects
     * to), {@code *} = any; requests without an Origin (not from a browser) are always let in.
     */
    public final java.util.List<String> wsAllowedOrigins;
    /** Largest WebSocket frame a client may send (payload bytes); larger ones close with 1009. */
    public final int wsMaxFrameBytes;

    /** Longest an MQTT session outlives its connection with nothing stored (persistent sessions), seconds. */
    public final int mqttMaxSessionExpirySec;
    /** Retained messages (MQTT) kept at most, by count and by bytes (topic plus payload). */
    public final int maxRetained;
    public final long maxRetainedBytes;

    // TLS on the MQTT and WebSocket listeners (null: plain); the certificate chain and PKCS#8 key, in PEM
    public final java.nio.file.Path mqttTlsCert;
    public final java.nio.file.Path mqttTlsKey;
    public final java.nio.file.Path wsTlsCert;
    public final java.nio.file.Path wsTlsKey;

    // Protection
    public final int maxConnections;
    public final int maxConnectionsPerIp;
    public final int acceptRatePerSec;

    // TCP keepalive (seconds; 0 = kernel default) and TCP_USER_TIMEOUT (ms; 0 = off)
    public final boolean tcpKeepalive;
    public final int tcpKeepIdleSec;
    public final int tcpKeepIntervalSec;
    public final int tcpKeepCount;
    public final int tcpUserTimeoutMs;

    // Drain
    public final int drainPeriodSec;
    public final int reconnectSpreadMs;

    private ServerConfig(Builder b) {
        bind = b.bind;
        port = b.port;
        transport = b.transport;
        eventLoops = b.eventLoops;
        reusePort = b.reusePort;
        backlog = b.backlog;
        nodeName = b.nodeName;
        cluster = b.cluster;
        clusterPassword = b.clusterPasswordFile == null ? null
                : Secrets.resolve("--cluster-password", null, "--cluster-password-file", b.clusterPasswordFile, null,
                        b.environment);
        clusterTimeoutMs = b.clusterTimeoutMs;
        clusterTlsCa = b.clusterTlsCa;
        clusterLinks = !"off".equals(b.clusterLink);
        if (b.clusterLink == null || !clusterLinks) {
            clusterLinkHost = null;
            clusterLinkPort = 0;
        } else {
            int colon = b.clusterLink.lastIndexOf(':');
            String host = colon < 0 ? "" : b.clusterLink.substring(0, colon);
            int linkPort = -1;
            try {
                linkPort = colon < 0 ? -1 : Integer.parseInt(b.clusterLink.substring(colon + 1));
            } catch (NumberFormatException e) {
                linkPort = -1;
            }
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (host.isEmpty() || linkPort < 0 || linkPort > 65_535) {
                throw new IllegalArgumentException("--cluster-link takes HOST:PORT (PORT 0: any free port) or off, "
                        + "not '" + b.clusterLink + "'");
            }
            clusterLinkHost = host;
            clusterLinkPort = linkPort;
        }
        acceptProxy = b.acceptProxy;
        acceptProxyTimeoutSec = b.acceptProxyTimeoutSec;
        acceptProxyFrom = b.acceptProxyFrom;
        trustedProxies = CidrList.parse("--accept-proxy-from", b.acceptProxyFrom);
        apiBind = b.apiBind;
        apiPort = b.apiPort;
        apiToken = Secrets.resolve("--api-token", b.apiToken, "--api-token-file", b.apiTokenFile,
                Secrets.API_TOKEN_ENV, b.environment);
        apiInsecure = b.apiInsecure;
        apiMaxConnections = b.apiMaxConnections;
        apiHeaderTimeoutSec = b.apiHeaderTimeoutSec;
        apiBodyTimeoutSec = b.apiBodyTimeoutSec;
        apiIdleTimeoutSec = b.apiIdleTimeoutSec;
        apiMaxStreams = b.apiMaxStreams;
        apiMaxBodyMemoryMib = b.apiMaxBodyMemoryMib;
        if (!b.apiLoop.equals("shared") && !b.apiLoop.equals("own")) {
            throw new IllegalArgumentException("--api-loop must be shared or own, not '" + b.apiLoop + "'");
        }
        apiOnClientLoops = b.apiLoop.equals("shared");
        apiTlsCert = path(b.apiTlsCert);
        apiTlsKey = path(b.apiTlsKey);
        auth = b.auth;
        jwtSecret = Secrets.resolve("--jwt-secret", b.jwtSecret, "--jwt-secret-file", b.jwtSecretFile,
                b.auth.equals("jwt") ? Secrets.JWT_SECRET_ENV : null, b.environment);
        jwtPublicKey = b.jwtPublicKey;
        jwtLeewaySec = b.jwtLeewaySec;
        jwtAudience = b.jwtAudience;
        jwtIssuer = b.jwtIssuer;
        upstreamUrl = b.upstreamUrl;
        upstreamToken = Secrets.resolve("--upstream-token", null, "--upstream-token-file", b.upstreamTokenFile,
                b.upstreamUrl != null ? Secrets.UPSTREAM_TOKEN_ENV : null, b.environment);
        upstreamInFlight = b.upstreamInFlight;
        upstreamTimeoutSec = b.upstreamTimeoutSec;
        upstreamAttempts = b.upstreamAttempts;
        upstreamMaxBatch = b.upstreamMaxBatch;
        maxPendingSendsPerClient = b.maxPendingSendsPerClient;
        clientRate = b.clientRate;
        clientBurst = b.clientBurst > 0 ? b.clientBurst : 2 * b.clientRate;
        clientRateGraceSec = b.clientRateGraceSec;
        maxSubscriptionsPerClient = b.maxSubscriptionsPerClient;
        handshakeTimeoutSec = b.handshakeTimeoutSec;
        heartbeatDefaultSec = b.heartbeatDefaultSec;
        heartbeatMinSec = b.heartbeatMinSec;
        heartbeatMaxSec = b.heartbeatMaxSec;
        idleGraceSec = b.idleGraceSec;
        maxLineBytes = b.maxLineBytes;
        maxPayloadBytes = b.maxPayloadBytes;
        windowMessages = b.windowMessages;
        maxQueuedMessagesPerClient = b.maxQueuedMessagesPerClient;
        maxQueuedBytesPerClient = b.maxQueuedBytesPerClient;
        maxQueuedTotalBytes = b.maxQueuedTotalBytes;
        maxTtlSec = b.maxTtlSec;
        seqOriginFromClock = b.seqOriginFromClock;
        maxOfflineSessions = b.maxOfflineSessions;
        mqttPort = b.mqttPort;
        mqttPushTopic = b.mqttPushTopic;
        store = b.store;
        dataDir = java.nio.file.Path.of(b.dataDir);
        storeFsync = b.storeFsyncPolicy;
        storeFsyncIntervalMs = b.storeFsyncIntervalMs;
        storeSegmentBytes = b.storeSegmentBytes;
        maxStoreBytes = b.maxStoreBytes;
        writeBufferHighBytes = b.writeBufferHighBytes;
        writeBufferLowBytes = Math.max(1, b.writeBufferHighBytes / 2);
        wsPort = b.wsPort;
        wsAllowedOrigins = b.wsAllowedOrigins.isBlank() ? java.util.List.of()
                : java.util.Arrays.stream(b.wsAllowedOrigins.split(",")).map(String::strip)
                        .filter(o -> !o.isEmpty()).toList();
        // No frame limit of its own by default: a frame's data goes to the protocol as it arrives, whose own limits
        // bound what is buffered, and an MQTT client may send many packets in one frame (MQTT.js sends its queue so).
        wsMaxFrameBytes = b.wsMaxFrameBytes > 0 ? b.wsMaxFrameBytes : Integer.MAX_VALUE;
        mqttMaxSessionExpirySec = b.mqttMaxSessionExpirySec;
        maxRetained = b.maxRetained;
        maxRetainedBytes = b.maxRetainedBytes;
        mqttTlsCert = path(b.mqttTlsCert);
        mqttTlsKey = path(b.mqttTlsKey);
        wsTlsCert = path(b.wsTlsCert);
        wsTlsKey = path(b.wsTlsKey);
        maxConnections = b.maxConnections;
        maxConnectionsPerIp = b.maxConnectionsPerIp;
        acceptRatePerSec = b.acceptRatePerSec;
        tcpKeepalive = b.tcpKeepalive;
        tcpKeepIdleSec = b.tcpKeepIdleSec;
        tcpKeepIntervalSec = b.tcpKeepIntervalSec;
        tcpKeepCount = b.tcpKeepCount;
        tcpUserTimeoutMs = b.tcpUserTimeoutMs;
        drainPeriodSec = b.drainPeriodSec;
        reconnectSpreadMs = b.reconnectSpreadMs;
        validate(b);
    }

    /** Checks every setting, in the order the messages have always come; {@code listener} checks its own. */
    private void validate(ListenerOptions listener) {
        switch (auth) {
            case "none" -> {
                if (jwtSecret != null || jwtPublicKey != null) {
                    throw new IllegalArgumentException("--jwt-secret/--jwt-public-key need --auth jwt");
                }
            }
            case "jwt" -> { }
            default -> throw new IllegalArgumentException("--auth must be none or jwt, not '" + auth + "'");
        }
        Ranges.check("--port", port, 0, 65535);
        Ranges.check("--api-port", apiPort, 0, 65535);
        Ranges.check("--api-max-connections", apiMaxConnections, 1, 100_000);
        Ranges.check("--api-header-timeout", apiHeaderTimeoutSec, 1, 3600);
        Ranges.check("--api-body-timeout", apiBodyTimeoutSec, 1, 3600);
        Ranges.check("--api-idle-timeout", apiIdleTimeoutSec, 1, 86400);
        Ranges.check("--api-max-streams", apiMaxStreams, 1, 100_000);
        Ranges.check("--api-max-body-memory", apiMaxBodyMemoryMib, io.switchboard.api.ApiSettings.MAX_BODY_MIB,
                1024 * 1024);
        if ((apiTlsCert == null) != (apiTlsKey == null)) {
            throw new IllegalArgumentException("--api-tls-cert and --api-tls-key go together: give both or neither");
        }
        listener.validateListener();
        Ranges.check("--accept-proxy-timeout", acceptProxyTimeoutSec, 1, 3600);
        if (acceptProxy && trustedProxies.isEmpty()) {
            throw new IllegalArgumentException("--accept-proxy-from needs at least one address block");
        }
        Ranges.check("--handshake-timeout", handshakeTimeoutSec, 1, 3600);
        Ranges.check("--hb-min", heartbeatMinSec, 0, 86_400);
        Ranges.check("--hb-max", heartbeatMaxSec, heartbeatMinSec, 86_400);
        Ranges.check("--hb-default", heartbeatDefaultSec, 0, heartbeatMaxSec);
        Ranges.check("--idle-grace", idleGraceSec, 0, 3600);
        Ranges.check("--max-line", maxLineBytes, 64, 64 * 1024);
        Ranges.check("--max-payload", maxPayloadBytes, 1, 16 * 1024 * 1024);
        Ranges.check("--window", windowMessages, 1, 65_536);
        Ranges.check("--max-queued", maxQueuedMessagesPerClient, 1, 10_000_000);
        if (maxQueuedBytesPerClient < maxPayloadBytes) {
            throw new IllegalArgumentException("--max-queued-bytes (" + maxQueuedBytesPerClient
                    + ") must be at least --max-payload (" + maxPayloadBytes + ")");
        }
        int overhead = io.switchboard.service.PushService.QUEUED_MESSAGE_OVERHEAD_BYTES;
        if (maxQueuedTotalBytes < maxPayloadBytes + overhead) {
            // A message costs its payload and its own overhead: one of the largest must fit.
            throw new IllegalArgumentException("--max-queued-total (" + maxQueuedTotalBytes
                    + ") must be at least --max-payload (" + maxPayloadBytes + ") + " + overhead);
        }
        Ranges.check("--max-ttl", maxTtlSec, 0, 365 * 86_400);
        Ranges.check("--max-offline-sessions", maxOfflineSessions, 0, Integer.MAX_VALUE);
        Ranges.check("--mqtt-port", mqttPort, -1, 65535);
        if (!mqttPushTopic.contains("{id}") || !io.switchboard.service.Names.isValidTopic(mqttPushTopic.replace("{id}", "x"))) {
            throw new IllegalArgumentException("--mqtt-push-topic must contain {id} and otherwise be "
                    + io.switchboard.service.Names.TOPIC_RULE + ", not '" + mqttPushTopic + "'");
        }
        if (!store.equals("disk") && !store.equals("memory")) {
            throw new IllegalArgumentException("--store must be disk or memory, not '" + store + "'");
        }
        Ranges.check("--store-fsync-interval", storeFsyncIntervalMs, 1, 3_600_000);
        if (storeSegmentBytes < 1024 * 1024 || storeSegmentBytes > (1L << 40)) {
            throw new IllegalArgumentException("--store-segment must be between 1m and 1t, not " + storeSegmentBytes);
        }
        if (maxStoreBytes < 0) {
            throw new IllegalArgumentException("--max-store-bytes must not be negative");
        }
        Ranges.check("--ws-port", wsPort, -1, 65535);
        Ranges.check("--max-retained", maxRetained, 0, 100_000_000);
        Ranges.check("--mqtt-max-session-expiry", mqttMaxSessionExpirySec, 0, Integer.MAX_VALUE);
        if (maxRetainedBytes < 0) {
            throw new IllegalArgumentException("--max-retained-bytes must not be negative");
        }
        if ((mqttTlsCert == null) != (mqttTlsKey == null)) {
            throw new IllegalArgumentException("--mqtt-tls-cert and --mqtt-tls-key go together: give both or neither");
        }
        if ((wsTlsCert == null) != (wsTlsKey == null)) {
            throw new IllegalArgumentException("--ws-tls-cert and --ws-tls-key go together: give both or neither");
        }
        Ranges.check("--ws-max-frame", wsMaxFrameBytes, 126, Integer.MAX_VALUE);
        for (String origin : wsAllowedOrigins) {
            if (!origin.equals("*") && !origin.matches("(?i)(https?|null)(://[^/\\s]+)?")) {
                throw new IllegalArgumentException("--ws-allowed-origins takes origins such as https://app.example.com"
                        + " (scheme://host[:port], comma separated) or *, not '" + origin + "'");
            }
        }
        Ranges.check("--max-connections-per-ip", maxConnectionsPerIp, 0, Integer.MAX_VALUE);
        Ranges.check("--accept-rate", acceptRatePerSec, 0, Integer.MAX_VALUE);
        Ranges.check("--max-pending-sends", maxPendingSendsPerClient, 1, Short.MAX_VALUE);
        Ranges.check("--upstream-in-flight", upstreamInFlight, 1, 1_000);
        Ranges.check("--upstream-timeout", upstreamTimeoutSec, 1, 600);
        Ranges.check("--upstream-attempts", upstreamAttempts, 1, 100);
        Ranges.check("--upstream-max-batch", upstreamMaxBatch, 1, 10_000);
        if (upstreamToken != null && !upstreamToken.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("--upstream-token-file: the token must be printable ASCII without "
                    + "spaces");
        }
        Ranges.check("--client-rate", clientRate, 0, 100_000_000);
        Ranges.check("--client-burst", clientBurst, clientRate == 0 ? 0 : clientRate, 100_000_000);
        Ranges.check("--client-rate-grace", clientRateGraceSec, 0, 3600);
        Ranges.check("--max-subscriptions", maxSubscriptionsPerClient, 0, 100_000);
        Ranges.check("--tcp-user-timeout", tcpUserTimeoutMs, 0, Integer.MAX_VALUE);
        Ranges.check("--drain-period", drainPeriodSec, 0, 3600);
        Ranges.check("--reconnect-spread", reconnectSpreadMs, 0, 3_600_000);
        if (writeBufferLowBytes <= 0 || writeBufferHighBytes < writeBufferLowBytes) {
            throw new IllegalArgumentException("write buffer watermarks must satisfy 0 < low <= high");
        }
        if (cluster != null) {
            if (!cluster.startsWith("redis://") && !cluster.startsWith("rediss://")) {
                throw new IllegalArgumentException("--cluster takes redis://HOST:PORT or rediss://HOST:PORT, not '"
                        + cluster + "'");
            }
            if (nodeName == null) {
                throw new IllegalArgumentException("--cluster needs --node NAME, a name unique among the nodes");
            }
            if (clusterTlsCa != null && !cluster.startsWith("rediss://")) {
                throw new IllegalArgumentException("--cluster-tls-ca needs --cluster rediss://... (TLS)");
            }
            if (clusterTlsCa != null && !java.nio.file.Files.isReadable(java.nio.file.Path.of(clusterTlsCa))) {
                throw new IllegalArgumentException("--cluster-tls-ca: cannot read " + clusterTlsCa);
            }
        }
        if (clusterTimeoutMs < 10 || clusterTimeoutMs > 60_000) {
            throw new IllegalArgumentException("--cluster-timeout must be between 10 and 60000 ms, not "
                    + clusterTimeoutMs);
        }
        if (nodeName != null && !io.switchboard.swb.SwbIds.isValid(nodeName)) {
            throw new IllegalArgumentException("--node must be 1-128 characters of [A-Za-z0-9._:@-]");
        }
        if (apiToken == null && !apiInsecure && !Secrets.isLoopback(apiBind)) {
            throw new IllegalArgumentException("--api-bind " + apiBind + " is reachable from other hosts and the API "
                    + "has no token: give one with --api-token-file FILE (or " + Secrets.API_TOKEN_ENV
                    + "), or accept the risk with --api-insecure");
        }
    }

    /** Whether {@code address} is one of the peers trusted to send a PROXY header ({@link #acceptProxyFrom}). */
    public boolean trustedProxy(java.net.InetAddress address) {
        return trustedProxies.contains(address);
    }

    /**
     * The one-line warning to print at start when any client that reaches a non-loopback {@link #bind} may claim any
     * client id ({@code --auth none}); null when there is nothing to warn about.
     */
    public String openAuthWarning() {
        if (!auth.equals("none") || Secrets.isLoopback(bind)) {
            return null;
        }
        return "--auth none on " + bind + ": anyone who reaches this address may connect as any client id "
                + "(use --auth jwt, or --bind 127.0.0.1)";
    }

    /** Clamps a heartbeat a client asked for to the server's limits; 0 stays 0 (no application heartbeats). */
    private static java.nio.file.Path path(String file) {
        return file == null || file.isBlank() ? null : java.nio.file.Path.of(file);
    }

    public int clampHeartbeat(int requestedSec) {
        if (requestedSec < 0) {
            return heartbeatDefaultSec;
        }
        if (requestedSec == 0 && heartbeatMinSec > 0) {
            // No heartbeats would mean never idle-closed: only a server with --hb-min 0 allows that.
            return heartbeatMinSec;
        }
        return Math.max(heartbeatMinSec, Math.min(heartbeatMaxSec, requestedSec));
    }

    /**
     * The one declaration of every gateway setting: field name (with its unit), {@code switchboard server} option,
     * description and default (the initial value; {@code --help} shows it). {@code ServerCommand} mixes it in; tests
     * set the fields directly. {@link #build()} validates. Mutable, for one thread.
     */
    public static final class Builder extends ListenerOptions {
        private static final String DEFAULT_SEQ_ORIGIN = "clock";
        /** Where the open-file limit cannot be read. */
        static final int MAX_CONNECTIONS_WITHOUT_FILE_LIMIT = 1_000_000;
        private static final int DEFAULT_MAX_CONNECTIONS = defaultMaxConnections(OpenFileLimit.current());

        @Option(names = "--bind", description = "Address for client connections.")
        public String bind = "0.0.0.0";
        @Option(names = "--port", description = "Port for client connections (SWB/1).")
        public int port = 7000;
        @Option(names = "--node", paramLabel = "<node>", description = "Node name announced in WELCOME (node=...); "
                + "with --cluster, this node's name in the cluster, unique among the nodes (required).")
        public String nodeName;
        @Option(names = "--cluster", paramLabel = "redis://HOST:PORT", description = "Share one namespace of clients "
                + "with every gateway started with the same Redis (rediss:// for TLS): a push through any node reaches "
                + "the client wherever it is connected, and stored messages live in Redis (not in --data-dir). "
                + "Unset: one process on its own store.")
        public String cluster;
        @Option(names = "--cluster-password-file", paramLabel = "FILE",
                description = "Read the cluster Redis's password from FILE (its first line).")
        public String clusterPasswordFile;
        @Option(names = "--cluster-timeout", paramLabel = "<ms>", description = "Milliseconds a Redis command may "
                + "take; past it, a handshake is refused with 503 (the client retries) and a push answered 503. "
                + "Checked every quarter of it, at most every 500 ms: a stuck command fails within 1.25 times it.")
        public int clusterTimeoutMs = 2000;
        @Option(names = "--cluster-tls-ca", paramLabel = "FILE", description = "With --cluster rediss://...: the PEM "
                + "certificates (a CA, or Redis's own self-signed one) that Redis's certificate must chain to. "
                + "Unset: the JDK's trusted CAs.")
        public String clusterTlsCa;
        @Option(names = "--cluster-link", paramLabel = "HOST:PORT|off", description = "Where this node listens for "
                + "the other nodes' requests (pushes routed to its clients, and their answers): a direct TCP link "
                + "per pair of nodes that route to each other, proven with a secret kept in the cluster's Redis. "
                + "Requests go through Redis streams while a link is not up (or with off): slower, nothing lost. "
                + "Unset: the address this host reaches Redis from, a free port (the port is announced in Redis; "
                + "open it between the nodes). With --cluster rediss://... the links take TLS too (a certificate "
                + "each process makes for itself, pinned by its hash in Redis). A HOST of 0.0.0.0 listens everywhere "
                + "and announces the address this host reaches Redis from.")
        public String clusterLink;
        @Option(names = "--accept-proxy", description = "Expect a PROXY protocol header (v1 or v2) first on every "
                + "client connection, as a layer-4 proxy sends it (switchboard proxy --send-proxy v2, HAProxy "
                + "send-proxy): limits, logs and the API use the client address it announces. Only behind such a "
                + "proxy.")
        public boolean acceptProxy;
        @Option(names = "--accept-proxy-timeout", paramLabel = "<acceptProxyTimeout>", description = "Seconds a "
                + "connection has to send its complete PROXY header (with --accept-proxy); then it is closed.")
        public int acceptProxyTimeoutSec = 10;
        @Option(names = "--accept-proxy-from", paramLabel = "CIDR[,CIDR...]", description = "With --accept-proxy: "
                + "the only peers (the proxies) whose PROXY header is believed; a connection from anywhere else is "
                + "refused (proxy_untrusted), since its header could announce any address.")
        public String acceptProxyFrom = "127.0.0.0/8,::1";

        @Option(names = "--api-bind", description = "Address of the backend HTTP API.")
        public String apiBind = "127.0.0.1";
        @Option(names = "--api-port", description = "Port of the backend HTTP API.")
        public int apiPort = 8080;
        @Option(names = "--api-token",
                description = "Require 'Authorization: Bearer TOKEN' on the API (all but /healthz). Visible in ps: "
                        + "prefer --api-token-file or SWITCHBOARD_API_TOKEN.")
        public String apiToken;
        @Option(names = "--api-max-connections", paramLabel = "<apiMaxConnections>",
                description = "API connections open at once; one more is answered 503 and closed.")
        public int apiMaxConnections = 1000;
        @Option(names = "--api-header-timeout", paramLabel = "<apiHeaderTimeout>", description = "Seconds an API "
                + "request has from its first byte (a new connection: from its opening) to its last header line.")
        public int apiHeaderTimeoutSec = 10;
        @Option(names = "--api-body-timeout", paramLabel = "<apiBodyTimeout>",
                description = "Seconds an API request has from its headers to the end of its body.")
        public int apiBodyTimeoutSec = 30;
        @Option(names = "--api-idle-timeout", paramLabel = "<apiIdleTimeout>", description = "Seconds an API "
                + "connection may stay open with no request in progress (HTTP/2: no stream open); then it is "
                + "closed (HTTP/2: after a GOAWAY). Keep your client's pool idle time below it. Default: 300.")
        public int apiIdleTimeoutSec = io.switchboard.api.ApiSettings.DEFAULT_IDLE_TIMEOUT_SEC;
        @Option(names = "--api-loop", paramLabel = "shared|own", description = "Where API connections are served: "
                + "shared (default): on the client event loops, so a push to a client on the same loop takes no "
                + "thread hop and no extra thread wakes per push (least CPU, lowest latency); own: on one thread of "
                + "their own, so a huge batch or a slow /metrics never delays a client.")
        public String apiLoop = "shared";
        @Option(names = "--api-max-streams", paramLabel = "<streams>", description = "HTTP/2 requests one API "
                + "connection may have in flight at once (h2c, or h2 with --api-tls-cert); the client waits for a "
                + "free stream beyond. Default: 1000.")
        public int apiMaxStreams = io.switchboard.api.ApiSettings.DEFAULT_MAX_STREAMS;
        @Option(names = "--api-max-body-memory", paramLabel = "<MiB>", description = "MiB of request bodies the API "
                + "holds while they arrive, all connections and HTTP/2 streams together (a body is at most 64 MiB, "
                + "so at least 64); a request beyond is answered 503 (retry) and its connection closed. Default: "
                + io.switchboard.api.ApiSettings.DEFAULT_MAX_BODY_MEMORY_MIB + ".")
        public int apiMaxBodyMemoryMib = io.switchboard.api.ApiSettings.DEFAULT_MAX_BODY_MEMORY_MIB;
        @Option(names = "--api-tls-cert", paramLabel = "PEM", description = "Certificate chain (PEM) for TLS on the "
                + "API (https; h2 or HTTP/1.1 by ALPN); with --api-tls-key. Default: plain HTTP, where HTTP/2 is "
                + "spoken with prior knowledge or after Upgrade: h2c.")
        public String apiTlsCert;
        @Option(names = "--api-tls-key", paramLabel = "PEM", description = "Private key of --api-tls-cert: PEM, "
                + "PKCS#8.")
        public String apiTlsKey;
        @Option(names = "--api-token-file", paramLabel = "FILE",
                description = "Read the API token from FILE (its first line); or set SWITCHBOARD_API_TOKEN.")
        public String apiTokenFile;
        @Option(names = "--api-insecure", description = "Allow --api-bind on a non-loopback address without a "
                + "token: anyone who reaches it may push to and disconnect any client.")
        public boolean apiInsecure;

        @Option(names = "--auth", description = "Client authentication: none or jwt.")
        public String auth = "none";
        @Option(names = "--jwt-secret", description = "HS256 secret for --auth jwt (at least 32 bytes). Visible in "
                + "ps: prefer --jwt-secret-file or SWITCHBOARD_JWT_SECRET.")
        public String jwtSecret;
        @Option(names = "--jwt-secret-file", paramLabel = "FILE",
                description = "Read the HS256 secret from FILE (its first line); or set SWITCHBOARD_JWT_SECRET.")
        public String jwtSecretFile;
        @Option(names = "--jwt-public-key", description = "PEM public key (RSA or EC) for --auth jwt; a file with "
                + "several (a rotation: the old and the new) takes a token signed by any of them.")
        public String jwtPublicKey;
        @Option(names = "--jwt-leeway", description = "Clock skew allowed on exp/nbf, seconds.")
        public int jwtLeewaySec = 30;
        @Option(names = "--jwt-audience", paramLabel = "<aud>", description = "With --auth jwt: a token's aud must "
                + "name this (e.g. the gateway's URL, as your identity provider issues it). Unset: a token that names "
                + "any audience is refused (it was made for another service, RFC 7519 4.1.3); * takes any audience.")
        public String jwtAudience;
        @Option(names = "--jwt-issuer", paramLabel = "<iss>", description = "With --auth jwt: a token's iss must be "
                + "this. Unset: not checked.")
        public String jwtIssuer;

        @Option(names = "--upstream", paramLabel = "<upstream>",
                description = "Where client SENDs go: webhook:URL. Unset: SENDs get NACK 503.")
        public String upstreamUrl;
        @Option(names = "--upstream-token-file", paramLabel = "FILE", description = "Bearer token the webhook is "
                + "sent (Authorization: Bearer), from FILE's first line; or set SWITCHBOARD_UPSTREAM_TOKEN. Default: "
                + "none, and the webhook cannot tell the gateway from anyone else.")
        public String upstreamTokenFile;
        @Option(names = "--upstream-in-flight", paramLabel = "<batches>", description = "Webhook batches posted or "
                + "waiting for a retry at once; 1 keeps every client's messages in order at the webhook (a retried "
                + "batch is not overtaken).")
        public int upstreamInFlight = 4;
        @Option(names = "--upstream-timeout", paramLabel = "<seconds>", description = "How long one webhook POST "
                + "may take, connecting included, before it is retried.")
        public int upstreamTimeoutSec = 10;
        @Option(names = "--upstream-attempts", paramLabel = "<n>", description = "POSTs of one webhook batch at "
                + "most, the first included (backoff 0.1 s doubling up to 5 s between them); then its messages are "
                + "answered NACK 503.")
        public int upstreamAttempts = 5;
        @Option(names = "--upstream-max-batch", paramLabel = "<messages>", description = "Messages per webhook POST "
                + "at most.")
        public int upstreamMaxBatch = 100;
        @Option(names = "--max-pending-sends", paramLabel = "<maxPendingSends>",
                description = "Unanswered SENDs per client before NACK 429.")
        public int maxPendingSendsPerClient = 64;
        @Option(names = "--client-rate", paramLabel = "<frames>", description = "Frames a second one client may "
                + "send (PING, ACK, SEND, SUB, MQTT packets, WebSocket pings; over every protocol); beyond it the "
                + "client is not read until the next second, so one flooding client cannot slow the others. "
                + "0 = no limit.")
        public int clientRate = 2000;
        @Option(names = "--client-burst", paramLabel = "<frames>", description = "Frames a client may save up for "
                + "a burst, at least --client-rate. Default: twice --client-rate.")
        public int clientBurst = 0;
        @Option(names = "--client-rate-grace", paramLabel = "<sec>", description = "Seconds in a row a client may "
                + "stay over --client-rate before it is closed with 429; 0 = throttle only, never close.")
        public int clientRateGraceSec = 10;

        @Option(names = "--handshake-timeout", paramLabel = "<handshakeTimeout>",
                description = "Seconds a new connection has to send HELLO.")
        public int handshakeTimeoutSec = 10;
        @Option(names = "--hb-default", paramLabel = "<hbDefault>",
                description = "Heartbeat (s) for clients that do not ask; 0 = TCP keepalive only.")
        public int heartbeatDefaultSec = 60;
        @Option(names = "--hb-min", paramLabel = "<hbMin>", description = "Smallest heartbeat (s) a client may ask for; 0 lets a client "
                + "ask for none (hb=0: TCP keepalive only, never idle-closed).")
        public int heartbeatMinSec = 5;
        @Option(names = "--hb-max", paramLabel = "<hbMax>", description = "Largest heartbeat (s) a client may ask for (an MQTT "
                + "3.1.1 client's keep-alive above it is taken as it is: it cannot be told another).")
        public int heartbeatMaxSec = 3600;
        @Option(names = "--idle-grace", paramLabel = "<idleGrace>",
                description = "Seconds added to 2 x hb before an idle client is closed.")
        public int idleGraceSec = 10;
        @Option(names = "--max-line", paramLabel = "<maxLine>", description = "Longest control line in bytes (413 beyond).")
        public int maxLineBytes = 1024;
        @Option(names = "--max-payload", paramLabel = "<maxPayload>",
                description = "Largest payload in bytes, up to 16 MiB (413 beyond).")
        public int maxPayloadBytes = 64 * 1024;
        @Option(names = "--max-subscriptions", paramLabel = "<maxSubscriptions>",
                description = "Topics one client may subscribe to.")
        public int maxSubscriptionsPerClient = 100;

        @Option(names = "--window", paramLabel = "<window>", description = "Unacknowledged messages in flight per client (below 32 it slows SWB/1 clients, which may ack only every 32 messages or after 1 s).")
        public int windowMessages = 128;
        @Option(names = "--max-queued", paramLabel = "<maxQueued>",
                description = "Messages queued per client (pushes beyond get 429).")
        public int maxQueuedMessagesPerClient = 1000;
        @Option(names = "--max-queued-bytes", paramLabel = "<maxQueuedBytes>",
                description = "Payload bytes queued per client (pushes beyond get 429).")
        public long maxQueuedBytesPerClient = 1024 * 1024;
        /** Set from {@code --max-queued-total} by {@link #parseWords()}; a quarter of the maximum heap by default. */
        public long maxQueuedTotalBytes = Runtime.getRuntime().maxMemory() / 4;
        // The size as typed (256m, 1g, bytes), parsed by parseWords() so that a wrong one is reported like any setting.
        @Option(names = "--max-queued-total", paramLabel = "<size>", description = "Bytes queued for all "
                + "clients together, online and offline (payloads, and 64 per message), as bytes or 256m, 1g (pushes "
                + "beyond get 503). Default: a quarter of the maximum heap (-Xmx).")
        private String maxQueuedTotal;
        @Option(names = "--max-ttl", paramLabel = "<maxTtl>", description = "Longest retention a push may ask for, seconds.")
        public int maxTtlSec = 7 * 24 * 3600;
        @Option(names = "--max-offline-sessions",
                description = "Offline clients kept for stored (ttl > 0) messages (429 beyond).")
        public int maxOfflineSessions = 1_000_000;
        /** Set from {@code --seq-origin} by {@link #parseWords()}. */
        public boolean seqOriginFromClock = seqOriginFromClock(DEFAULT_SEQ_ORIGIN);
        // The word as typed, parsed by parseWords() so that a wrong one is reported like any invalid setting.
        @Option(names = "--seq-origin", defaultValue = DEFAULT_SEQ_ORIGIN, description = "Where a new session's seq "
                + "starts: clock (a resume from an older session never hides new messages) or zero (1, 2, 3... "
                + "easier by hand; a resume from a forgotten session can skip messages).")
        private String seqOrigin;
        @Option(names = "--mqtt-port", paramLabel = "<port>", description = "Port for MQTT 3.1.1 and 5 clients on "
                + "--bind; -1 (the default) = no MQTT listener, 0 = any free port.")
        public int mqttPort = -1;
        @Option(names = "--mqtt-push-topic", paramLabel = "<topic>", description = "Topic a push to an MQTT client "
                + "is published on ({id} is its client id): QoS 1 when pushed with a ttl, QoS 0 otherwise.")
        public String mqttPushTopic = "push/{id}";
        @Option(names = "--store", paramLabel = "disk|memory", description = "Where stored messages (pushed with "
                + "ttl > 0) are kept: disk (they survive a restart or a crash) or memory (lost with the process).")
        public String store = "disk";
        @Option(names = "--data-dir", paramLabel = "DIR", description = "Directory of the disk store, created on "
                + "start and used by one process at a time.")
        public String dataDir = "data";
        /** Set from {@code --store-fsync} by {@link #parseWords()}. */
        public DiskStore.Fsync storeFsyncPolicy = DiskStore.Fsync.BATCH;
        @Option(names = "--store-fsync", paramLabel = "always|batch|interval", description = "When a stored push "
                + "is synced to disk before its 200: always (one fsync each), batch (one fsync for the pushes that "
                + "arrived together; the default) or interval (written to the kernel before the 200, synced every "
                + "--store-fsync-interval: a crash of the process loses nothing, a power loss up to the interval).")
        private String storeFsync;
        @Option(names = "--store-fsync-interval", paramLabel = "MS",
                description = "Milliseconds between fsyncs with --store-fsync interval.")
        public int storeFsyncIntervalMs = 1000;
        /** Set from {@code --store-segment} by {@link #parseWords()}. */
        public long storeSegmentBytes = 64L * 1024 * 1024;
        @Option(names = "--store-segment", paramLabel = "<size>", description = "Size at which a segment file of "
                + "the disk store is sealed and a new one started (64m).")
        private String storeSegment;
        /** Set from {@code --max-store-bytes} by {@link #parseWords()}; 0 = a quarter of the free space at start. */
        public long maxStoreBytes;
        @Option(names = "--max-store-bytes", paramLabel = "<size>", description = "Bytes of stored messages the "
                + "disk store keeps (records with their framing), as bytes or 512m, 10g; a stored push beyond gets "
                + "507. Files take at most about twice this plus a segment. Default: a quarter of the free space "
                + "in --data-dir at start.")
        private String maxStore;
        @Option(names = "--ws-port", paramLabel = "<port>", description = "Port for WebSocket clients on --bind: "
                + "/swb carries SWB/1, /mqtt carries MQTT (subprotocol mqtt); -1 (the default) = no WebSocket "
                + "listener, 0 = any free port.")
        public int wsPort = -1;
        @Option(names = "--ws-allowed-origins", paramLabel = "<origins>", description = "Comma-separated origins "
                + "(https://app.example.com) whose pages may connect over WebSocket, or * for any. Default: only "
                + "a page served from the host it connects to; clients that send no Origin (not browsers) always.")
        public String wsAllowedOrigins = "";
        @Option(names = "--ws-max-frame", paramLabel = "<bytes>", description = "Largest WebSocket frame a client "
                + "may send; larger ones close the connection with 1009. Default: none of its own (the protocol's limits "
                + "bound what is buffered: --max-payload, --max-line, MQTT's packet size; one frame may carry many "
                + "packets).")
        public int wsMaxFrameBytes = 0;
        @Option(names = "--mqtt-max-session-expiry", paramLabel = "<sec>", description = "Longest an MQTT session "
                + "(its subscriptions) outlives its connection with nothing stored for it: a 3.1.1 persistent session "
                + "(clean session 0) is kept this long, a v5 session its Session Expiry Interval up to this (told in "
                + "CONNACK). Stored messages keep a session for their ttl regardless. 0 = not at all.")
        public int mqttMaxSessionExpirySec = 7 * 86_400;
        @Option(names = "--max-retained", paramLabel = "<count>", description = "Retained messages (MQTT's, and "
                + "the API's ?retain=true) kept at most, one per topic; a new topic beyond is refused. In memory.")
        public int maxRetained = 100_000;
        /** Set from {@code --max-retained-bytes} by {@link #parseWords()}. */
        public long maxRetainedBytes = 64L * 1024 * 1024;
        @Option(names = "--max-retained-bytes", paramLabel = "<size>", description = "Bytes (topics, payloads and "
                + "v5 properties) of retained messages kept at most (64m).")
        private String maxRetainedSize;
        @Option(names = "--mqtt-tls-cert", paramLabel = "PEM", description = "Certificate chain (PEM) for TLS on the "
                + "MQTT listener (mqtts); with --mqtt-tls-key. Default: plain MQTT.")
        public String mqttTlsCert;
        @Option(names = "--mqtt-tls-key", paramLabel = "PEM", description = "Private key of --mqtt-tls-cert: PEM, "
                + "PKCS#8 (BEGIN PRIVATE KEY; convert a PKCS#1 key with openssl pkcs8 -topk8 -nocrypt).")
        public String mqttTlsKey;
        @Option(names = "--ws-tls-cert", paramLabel = "PEM", description = "Certificate chain (PEM) for TLS on the "
                + "WebSocket listener (wss://); with --ws-tls-key. Default: plain ws://.")
        public String wsTlsCert;
        @Option(names = "--ws-tls-key", paramLabel = "PEM", description = "Private key of --ws-tls-cert: PEM, "
                + "PKCS#8.")
        public String wsTlsKey;
        @Option(names = "--write-buffer-high", paramLabel = "<writeBufferHigh>",
                description = "Bytes buffered per slow client before writes pause.")
        public int writeBufferHighBytes = 64 * 1024;

        @Option(names = "--max-connections", description = "Client connections this process accepts (429 beyond); by "
                + "default what the open-file limit allows, less the files the JVM keeps (see switchboard doctor).")
        public int maxConnections = DEFAULT_MAX_CONNECTIONS;
        @Option(names = "--max-connections-per-ip",
                description = "Connections per source address (IPv6: per /64 network); 0 = unlimited.")
        public int maxConnectionsPerIp;
        @Option(names = "--accept-rate", paramLabel = "<acceptRate>",
                description = "New connections per second; 0 = unlimited (429 beyond).")
        public int acceptRatePerSec;

        @Option(names = "--tcp-user-timeout",
                description = "TCP_USER_TIMEOUT in ms (unacked data drops the peer); 0 = off.")
        public int tcpUserTimeoutMs;

        @Option(names = "--drain-period", paramLabel = "<drainPeriod>",
                description = "Seconds over which clients are sent away on drain.")
        public int drainPeriodSec = 10;
        @Option(names = "--reconnect-spread", paramLabel = "<reconnectSpread>",
                description = "Clients are told to retry within 1 s + this many ms.")
        public int reconnectSpreadMs = 30_000;

        /**
         * {@code --max-connections}'s default under an open-file limit of {@code openFiles}: as many connections as
         * it leaves room for after the reserve {@code switchboard doctor} counts (at least 1), so that clients past it
         * read {@code BYE 429} instead of waiting in the accept queue for a file; 1,000,000 where the limit is unknown.
         */
        public static int defaultMaxConnections(OptionalLong openFiles) {
            if (openFiles.isEmpty()) {
                return MAX_CONNECTIONS_WITHOUT_FILE_LIMIT;
            }
            return Math.clamp(OpenFileLimit.serverConnections(openFiles.getAsLong()), 1, Integer.MAX_VALUE);
        }
        /** Where {@code SWITCHBOARD_API_TOKEN} and the other secrets' variables are looked up; tests replace it. */
        public java.util.function.UnaryOperator<String> environment = System::getenv;

        /** Checks every setting and returns them frozen; {@link IllegalArgumentException} names the option. */
        public ServerConfig build() {
            parseWords();
            return new ServerConfig(this);
        }

        @Override
        public void parseWords() {
            super.parseWords();
            if (seqOrigin != null) {
                seqOriginFromClock = seqOriginFromClock(seqOrigin);
                seqOrigin = null;
            }
            if (storeFsync != null) {
                storeFsyncPolicy = DiskStore.Fsync.parse("--store-fsync", storeFsync);
                storeFsync = null;
            }
            if (storeSegment != null) {
                storeSegmentBytes = Sizes.parse("--store-segment", storeSegment);
                storeSegment = null;
            }
            if (maxStore != null) {
                maxStoreBytes = Sizes.parse("--max-store-bytes", maxStore);
                maxStore = null;
            }
            if (maxRetainedSize != null) {
                maxRetainedBytes = Sizes.parse("--max-retained-bytes", maxRetainedSize);
                maxRetainedSize = null;
            }
            if (maxQueuedTotal != null) {
                maxQueuedTotalBytes = Sizes.parse("--max-queued-total", maxQueuedTotal);
                maxQueuedTotal = null;
            }
        }

        private static boolean seqOriginFromClock(String word) {
            return switch (word) {
                case "clock" -> true;
                case "zero" -> false;
                default -> throw new IllegalArgumentException("--seq-origin must be clock or zero, not '" + word + "'");
            };
        }
    }
}
