package io.switchboard.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.process.ProcFiles;
import io.switchboard.metrics.Refusal;
import io.switchboard.service.AdminService;
import io.switchboard.service.CoreStats;
import io.switchboard.service.StoreStats;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Map;

/**
 * Builds {@code /v1/stats} (JSON) and {@code /metrics} (Prometheus text) from the gateway's counters, the core's
 * state ({@link AdminService#stats()}), memory readings and per-second rates. {@link #sampleRates} runs once a second on an API loop; the rest may
 * run on any thread.
 */
final class StatsCollector {
    /** Fewer sessions than this make whole-process totals per session meaningless (the baseline dominates). */
    static final long MIN_SESSIONS_FOR_ESTIMATES = 100;

    private final GatewayMetrics m;
    private final AdminService admin;
    private final ApiConnections api;
    private long lastPushes;
    private long lastWritten;
    private long lastAccepted;
    private long lastFsyncs;
    private volatile double fsyncsPerSec;
    private volatile double pushesPerSec;
    private volatile double messagesPerSec;
    private volatile double acceptsPerSec;

    StatsCollector(GatewayMetrics metrics, AdminService admin, ApiConnections api) {
        this.m = metrics;
        this.admin = admin;
        this.api = api;
    }

    void sampleRates() {
        long p = m.pushesAccepted.sum();
        long w = m.messagesWritten.sum();
        long a = m.connectionsAccepted.sum();
        pushesPerSec = p - lastPushes;
        messagesPerSec = w - lastWritten;
        acceptsPerSec = a - lastAccepted;
        lastPushes = p;
        lastWritten = w;
        lastAccepted = a;
        long f = admin.stats().store().fsyncs();
        fsyncsPerSec = f - lastFsyncs;
        lastFsyncs = f;
    }

    ObjectNode json(boolean gcFirst) {
        if (gcFirst) {
            System.gc();
        }
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        long rss = rssBytes();
        long online = m.sessionsOnline.get();
        long open = m.connectionsOpen.get();
        CoreStats core = admin.stats();
        ObjectNode n = ApiHandler.JSON.createObjectNode();
        n.put("uptime_s", core.uptimeMs() / 1000);
        n.put("draining", admin.draining());
        n.put("connections", open);
        n.put("max_connections", core.maxConnections());
        n.put("sessions_online", online);
        n.put("sessions_known", core.sessionsKnown());
        n.put("sessions_offline_retained", core.sessionsOfflineRetained());
        n.put("queued_bytes", core.queuedBytes());
        n.put("max_queued_total_bytes", core.maxQueuedTotalBytes());
        n.put("handshakes_total", m.handshakes.sum());
        n.put("connections_accepted_total", m.connectionsAccepted.sum());
        n.put("takeovers_total", m.takeovers.sum());
        ObjectNode rates = n.putObject("rates_per_s");
        rates.put("pushes", pushesPerSec).put("messages_written", messagesPerSec).put("accepts", acceptsPerSec);
        ObjectNode msgs = n.putObject("messages");
        msgs.put("pushes_accepted", m.pushesAccepted.sum())
                .put("written", m.messagesWritten.sum())
                .put("acked", m.messagesAcked.sum())
                .put("expired", m.messagesExpired.sum())
                .put("dropped_on_disconnect", m.messagesDropped.sum())
                .put("topic_deliveries", m.topicDeliveries.sum())
                .put("broadcasts", m.broadcasts.sum())
                .put("sends_received", m.sendsReceived.sum())
                .put("sends_accepted", m.sendsAccepted.sum());
        ObjectNode refusals = n.putObject("refusals");
        for (Map.Entry<Refusal, Long> e : m.refusalSnapshot().entrySet()) {
            refusals.put(e.getKey().label(), e.getValue());
        }
        ObjectNode byProtocol = n.putObject("refusals_by_protocol");
        m.refusalsByProtocol().forEach((protocol, counts) -> {
            ObjectNode p = byProtocol.putObject(protocol);
            counts.forEach((reason, count) -> p.put(reason.label(), count));
        });
        ObjectNode mem = n.putObject("memory");
        mem.put("heap_used_bytes", heap.getUsed()).put("heap_max_bytes", heap.getMax()).put("rss_bytes", rss)
                .put("gc_before_reading", gcFirst)
                .put("old_gen_collections_total", io.switchboard.process.TenuredGarbageBound.collections());
        perSessionEstimates(mem, heap.getUsed(), rss, online, open);
        storeJson(n.putObject("store"), core.store());
        if (core.cluster() != null) {
            n.set("cluster", ApiHandler.JSON.valueToTree(core.cluster()));
        }
        if (!core.upstream().isEmpty()) {
            n.set("upstream", ApiHandler.JSON.valueToTree(core.upstream()));
        }
        n.put("loop_errors_total", m.loopErrors.sum());
        n.putObject("api").put("connections", api.open()).put("max_connections", api.maxConnections())
                .put("http2_streams", api.openStreams())
                .put("reading_paused", api.readingPaused.get()).put("requests_total", m.apiRequests.sum())
                .put("body_bytes_arriving", api.bodies.held()).put("max_body_memory_bytes", api.bodies.max())
                .put("idle_closed_total", m.apiIdleClosed.sum());
        return n;
    }

    /**
     * Adds {@code heap_per_session_bytes} and {@code rss_per_connection_bytes}: whole-process totals divided by the
     * sessions (connections), so they include the process's own baseline and mean something only with many of
     * them. Below {@link #MIN_SESSIONS_FOR_ESTIMATES} they are null, with {@code per_session_note} saying why.
     */
    static void perSessionEstimates(ObjectNode mem, long heapUsedBytes, long rssBytes, long online, long open) {
        boolean enough = online >= MIN_SESSIONS_FOR_ESTIMATES;
        if (enough) {
            mem.put("heap_per_session_bytes", heapUsedBytes / online);
        } else {
            mem.putNull("heap_per_session_bytes");
        }
        if (open >= MIN_SESSIONS_FOR_ESTIMATES && rssBytes > 0) {
            mem.put("rss_per_connection_bytes", rssBytes / open);
        } else {
            mem.putNull("rss_per_connection_bytes");
        }
        if (!enough || open < MIN_SESSIONS_FOR_ESTIMATES) {
            mem.put("per_session_note", "per-session figures need at least " + MIN_SESSIONS_FOR_ESTIMATES
                    + " sessions and connections: below that they are mostly the process's own baseline"
                    + " (switchboard bench measures the growth per client)");
        }
    }

    private void storeJson(ObjectNode n, StoreStats s) {
        n.put("kind", s.kind()).put("live_bytes", s.liveBytes()).put("max_bytes", s.maxBytes())
                .put("disk_bytes", s.diskBytes()).put("records", s.liveRecords()).put("segments", s.segments())
                .put("fsyncs_total", s.fsyncs()).put("fsyncs_per_s", fsyncsPerSec)
                .put("fsync_seconds_total", s.fsyncSecondsTotal()).put("failures_total", s.failures())
                .put("recovery_ms", s.recoveryMs()).put("recovered_messages", s.recoveredMessages())
                .put("recovered_clients", s.recoveredClients());
    }

    private static void storePrometheus(StringBuilder sb, StoreStats s) {
        gauge(sb, "switchboard_store_live_bytes", "Bytes of stored messages kept (records with framing).",
                s.liveBytes());
        gauge(sb, "switchboard_store_max_bytes", "Bound on the stored bytes (--max-store-bytes); 507 beyond.",
                s.maxBytes());
        gauge(sb, "switchboard_store_disk_bytes", "Bytes of the store's segment files.", s.diskBytes());
        gauge(sb, "switchboard_store_records", "Stored messages kept.", s.liveRecords());
        gauge(sb, "switchboard_store_segments", "Segment files of the store.", s.segments());
        counter(sb, "switchboard_store_failures_total", "Store writes that failed (stored pushes answered 503) and compaction's failed tries (a segment it could "
                + "not read or delete, tried again every minute: the files grow meanwhile).",
                s.failures());
        gauge(sb, "switchboard_store_recovery_seconds", "How long reading the store took at start.",
                s.recoveryMs() / 1000.0);
        sb.append("# HELP switchboard_store_fsync_seconds Time each fsync of the store took.\n")
                .append("# TYPE switchboard_store_fsync_seconds histogram\n");
        List<Double> bounds = StoreStats.FSYNC_BUCKET_SECONDS;
        for (int i = 0; i < s.fsyncBuckets().size(); i++) {
            sb.append("switchboard_store_fsync_seconds_bucket{le=\"")
                    .append(i < bounds.size() ? bounds.get(i).toString() : "+Inf").append("\"} ")
                    .append(s.fsyncBuckets().get(i)).append('\n');
        }
        sb.append("switchboard_store_fsync_seconds_sum ").append(s.fsyncSecondsTotal()).append('\n')
                .append("switchboard_store_fsync_seconds_count ").append(s.fsyncs()).append('\n');
    }

    String prometheus() {
        StringBuilder sb = new StringBuilder(4096);
        CoreStats core = admin.stats();
        gauge(sb, "switchboard_connections", "Open client connections.", m.connectionsOpen.get());
        gauge(sb, "switchboard_max_connections", "Configured maximum of client connections.",
                core.maxConnections());
        gauge(sb, "switchboard_sessions_online", "Clients connected and welcomed.", m.sessionsOnline.get());
        gauge(sb, "switchboard_sessions_known", "Sessions held, online or offline with stored messages.",
                core.sessionsKnown());
        gauge(sb, "switchboard_queued_bytes", "Bytes queued for all clients, online and offline: payloads, "
                + "and 64 per message (a broadcast's shared payload counted for none).", core.queuedBytes());
        gauge(sb, "switchboard_max_queued_total_bytes", "Budget of queued bytes (--max-queued-total).",
                core.maxQueuedTotalBytes());
        gauge(sb, "switchboard_draining", "1 while draining.", admin.draining() ? 1 : 0);
        counter(sb, "switchboard_connections_accepted_total", "Connections accepted by the listener.",
                m.connectionsAccepted.sum());
        counter(sb, "switchboard_handshakes_total", "Completed handshakes.", m.handshakes.sum());
        counter(sb, "switchboard_takeovers_total", "Sessions taken over by a newer connection.", m.takeovers.sum());
        counter(sb, "switchboard_pushes_accepted_total", "Pushes accepted (seq assigned).", m.pushesAccepted.sum());
        counter(sb, "switchboard_messages_written_total", "MSG frames written to clients.", m.messagesWritten.sum());
        counter(sb, "switchboard_messages_acked_total", "Messages acknowledged by clients.", m.messagesAcked.sum());
        counter(sb, "switchboard_messages_expired_total",
                "Messages dropped at their expiry (ttl, MQTT 5 Message Expiry), unsent or unacknowledged.",
                m.messagesExpired.sum());
        counter(sb, "switchboard_messages_dropped_total", "ttl=0 messages dropped when their client disconnected.",
                m.messagesDropped.sum());
        counter(sb, "switchboard_topic_deliveries_total", "Topic messages accepted for subscribers.",
                m.topicDeliveries.sum());
        counter(sb, "switchboard_sends_received_total", "SEND frames from clients.", m.sendsReceived.sum());
        counter(sb, "switchboard_sends_accepted_total", "SENDs the upstream accepted.", m.sendsAccepted.sum());
        counter(sb, "switchboard_loop_errors_total", "Unexpected errors survived by event loops.", m.loopErrors.sum());
        counter(sb, "switchboard_old_gen_collections_total", "Full collections asked for because the garbage in the "
                + "old generation passed its bound (Serial collector).",
                io.switchboard.process.TenuredGarbageBound.collections());
        counter(sb, "switchboard_api_requests_total", "Backend API requests.", m.apiRequests.sum());
        counter(sb, "switchboard_api_idle_closed_total", "API connections closed after --api-idle-timeout.",
                m.apiIdleClosed.sum());
        gauge(sb, "switchboard_api_connections", "Open backend API connections.", api.open());
        gauge(sb, "switchboard_api_streams", "HTTP/2 streams (requests) open on backend API connections.",
                api.openStreams());
        gauge(sb, "switchboard_api_reading_paused", "API connections not read until their answers are written.",
                api.readingPaused.get());
        gauge(sb, "switchboard_api_body_bytes_arriving", "Bytes of API request bodies held while they arrive "
                + "(at most --api-max-body-memory).", api.bodies.held());
        sb.append("# HELP switchboard_refusals_total Refusals and forced closes by reason.\n")
                .append("# TYPE switchboard_refusals_total counter\n");
        for (Map.Entry<Refusal, Long> e : m.refusalSnapshot().entrySet()) {
            sb.append("switchboard_refusals_total{reason=\"").append(e.getKey().label()).append("\"} ")
                    .append(e.getValue()).append('\n');
        }
        sb.append("# HELP switchboard_client_refusals_total Refusals and forced closes of client connections by "
                + "the protocol they spoke (swb, mqtt, ws: a WebSocket upgrade, swb-ws, mqtt-ws) and reason.\n")
                .append("# TYPE switchboard_client_refusals_total counter\n");
        m.refusalsByProtocol().forEach((protocol, counts) -> counts.forEach((reason, count) ->
                sb.append("switchboard_client_refusals_total{protocol=\"").append(protocol).append("\",reason=\"")
                        .append(reason.label()).append("\"} ").append(count).append('\n')));
        sb.append("# HELP switchboard_loop_connections Connections per event loop.\n")
                .append("# TYPE switchboard_loop_connections gauge\n");
        List<Integer> perLoop = core.loopConnections();
        for (int i = 0; i < perLoop.size(); i++) {
            sb.append("switchboard_loop_connections{loop=\"").append(i).append("\"} ")
                    .append(perLoop.get(i)).append('\n');
        }
        storePrometheus(sb, core.store());
        upstreamPrometheus(sb, core.upstream());
        if (core.cluster() != null) {
            clusterPrometheus(sb, core.cluster());
        }
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        gauge(sb, "switchboard_heap_used_bytes", "JVM heap in use.", heap.getUsed());
        gauge(sb, "switchboard_heap_max_bytes", "JVM maximum heap.", heap.getMax());
        gauge(sb, "switchboard_rss_bytes", "Resident set size of the process.", rssBytes());
        return sb.toString();
    }

    /**
     * The cluster's readings ({@code --cluster}): its numbers and flags as {@code switchboard_cluster_*} (counters
     * end in {@code _total}), its clients per node as one labelled gauge.
     */
    private static void clusterPrometheus(StringBuilder sb, java.util.Map<String, Object> cluster) {
        cluster.forEach((key, value) -> {
            String name = "switchboard_cluster_" + key;
            if (value instanceof Boolean b) {
                gauge(sb, name, "Cluster: " + key.replace('_', ' ') + " (1 yes, 0 no).", b ? 1 : 0);
            } else if (value instanceof Number n && CLUSTER_COUNTERS.contains(key)) {
                counter(sb, name + "_total", "Cluster: " + key.replace('_', ' ') + " since start.", n.longValue());
            } else if (value instanceof Number n) {
                gauge(sb, name, "Cluster: " + key.replace('_', ' ') + ".", n.longValue());
            } else if (value instanceof java.util.Map<?, ?> perNode) {
                sb.append("# HELP ").append(name).append(" Cluster: ").append(key.replace('_', ' '))
                        .append(", by node.\n# TYPE ").append(name).append(" gauge\n");
                perNode.forEach((node, v) -> sb.append(name).append("{node=\"").append(node).append("\"} ")
                        .append(v).append('\n'));
            }
        });
    }

    /** The cluster readings that only grow. */
    private static final java.util.Set<String> CLUSTER_COUNTERS = java.util.Set.of("redis_failures",
            "routed_pushes", "routed_in", "routed_requests", "owner_silent", "inbox_failures",
            "ended_subscriber_entries_removed", "claims_put_back", "requests_over_links", "link_failures");

    private static void gauge(StringBuilder sb, String name, String help, double v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(" gauge\n").append(name).append(' ').append(v).append('\n');
    }

    private static void gauge(StringBuilder sb, String name, String help, long v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(" gauge\n").append(name).append(' ').append(v).append('\n');
    }

    /** The upstream sink's counts: refusals by reason as one labelled counter, {@code buffered_*} as gauges. */
    private static void upstreamPrometheus(StringBuilder sb, Map<String, Long> upstream) {
        boolean refusedHead = false;
        for (Map.Entry<String, Long> e : upstream.entrySet()) {
            String key = e.getKey();
            if (key.startsWith("refused_")) {
                if (!refusedHead) {
                    sb.append("# HELP switchboard_upstream_refused_total Upstream messages refused, by reason.\n")
                            .append("# TYPE switchboard_upstream_refused_total counter\n");
                    refusedHead = true;
                }
                sb.append("switchboard_upstream_refused_total{reason=\"").append(key.substring("refused_".length()))
                        .append("\"} ").append(e.getValue()).append('\n');
            } else if (key.startsWith("buffered_")) {
                gauge(sb, "switchboard_upstream_" + key, "Upstream " + key.replace('_', ' ') + " held now.",
                        e.getValue());
            } else {
                counter(sb, "switchboard_upstream_" + key + "_total", "Upstream " + key.replace('_', ' ') + ".",
                        e.getValue());
            }
        }
    }

    private static void counter(StringBuilder sb, String name, String help, long v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(" counter\n").append(name).append(' ').append(v).append('\n');
    }

    static long rssBytes() {
        return ProcFiles.rssBytes("self");
    }
}
