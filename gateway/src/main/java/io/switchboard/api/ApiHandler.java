package io.switchboard.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.switchboard.metrics.GatewayMetrics;
import io.switchboard.metrics.Refusal;
import io.switchboard.service.AdminService;
import io.switchboard.service.ClientInfo;
import io.switchboard.service.PushRequest;
import io.switchboard.service.PushResult;
import io.switchboard.api.ApiRequests.BadRequest;
import io.switchboard.service.Names;
import io.switchboard.service.PushService;
import io.switchboard.service.Reach;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes backend API requests to the core ({@link PushService}, {@link AdminService}) and answers in JSON
 * (Prometheus text for {@code /metrics}). Every refusal is a JSON body {@code {"error": "...", "status": N}}; a
 * request whose work fails (a failed future, or a service that throws) is answered 500 in its own place in the
 * connection's order. Sharable: it keeps no per-connection state; answers may be written from the session loops.
 */
@ChannelHandler.Sharable
final class ApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
    static final ObjectMapper JSON = new ObjectMapper();
    private static final int DISCONNECT_DEFAULT_CODE = 503;
    private static final java.util.Set<Integer> BYE_CODES = java.util.Set.of(400, 401, 403, 408, 409, 413, 429, 503);

    private final PushService push;
    private final AdminService admin;
    private final GatewayMetrics metrics;
    private final StatsCollector stats;
    private final int maxPayloadBytes;
    private final int maxTtlSec;
    /** The token alone (the scheme is compared apart, case-insensitively), or null: no token needed. */
    private final BearerToken apiToken;

    ApiHandler(ApiSettings settings, PushService push, AdminService admin, GatewayMetrics metrics,
               StatsCollector stats) {
        this.push = push;
        this.admin = admin;
        this.metrics = metrics;
        this.stats = stats;
        this.maxPayloadBytes = settings.maxPayloadBytes();
        this.maxTtlSec = settings.maxTtlSec();
        this.apiToken = new BearerToken(settings.token());
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        metrics.apiRequests.increment();
        if (req.decoderResult().isFailure() && !ctx.channel().isActive()) {
            // The peer went away in the middle of a request (a reset mid-body): nobody to answer, nothing wrong here.
            log.debug("API request from {} aborted: {}", ctx.channel().remoteAddress(),
                    req.decoderResult().cause().toString());
            return;
        }
        if (req.decoderResult().cause() instanceof BodyBudget.Full full) {
            metrics.refused(Refusal.API_BODY_MEMORY);
            Exchange busy = Exchange.begin(ctx, false);
            if (busy != null) {
                error(busy, HttpResponseStatus.SERVICE_UNAVAILABLE, full.getMessage(), HttpHeaderNames.RETRY_AFTER,
                        "1");
            }
            return;
        }
        if (req.decoderResult().isFailure()) {
            // The decoder gave up on this request (line or headers too long, bad syntax): never act on half of it.
            metrics.refused(Refusal.API_BAD_REQUEST);
            Throwable cause = req.decoderResult().cause();
            HttpResponseStatus status = cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException
                    ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : cause instanceof io.netty.handler.codec.http.TooLongHttpLineException
                    ? HttpResponseStatus.REQUEST_URI_TOO_LONG : HttpResponseStatus.BAD_REQUEST;
            Exchange bad = Exchange.begin(ctx, false);
            if (bad != null) {
                error(bad, status, "request could not be decoded: " + cause.getMessage());
            }
            return;
        }
        Exchange ex = Exchange.begin(ctx, HttpUtil.isKeepAlive(req), req.content().readableBytes());
        if (ex == null) {
            return; // an earlier request on this connection asked to close it: nothing after it is served
        }
        QueryStringDecoder q = new QueryStringDecoder(ApiRequests.originForm(req.uri()));
        // Route on the raw path and decode each segment once, so an encoded '/' or '%' stays inside its segment.
        String path = q.rawPath();
        HttpMethod method = req.method();
        try {
            if (path.equals("/healthz") && method.equals(HttpMethod.GET)) {
                String failing = admin.draining() ? null : admin.failing();
                ObjectNode n = JSON.createObjectNode().put("status", admin.draining() ? "draining"
                        : failing != null ? "failing" : "ok");
                if (failing != null) {
                    n.put("error", failing);
                }
                send(ex, admin.draining() || failing != null ? HttpResponseStatus.SERVICE_UNAVAILABLE
                        : HttpResponseStatus.OK, n);
                return;
            }
            ApiPath parts = new ApiPath(path);
            List<HttpMethod> allowed = allowedMethods(path, parts);
            if (!allowed.isEmpty() && !allowed.contains(method) && (path.equals("/healthz") || authorized(req))) {
                String allow = String.join(", ", allowed.stream().map(HttpMethod::name).toList());
                error(ex, HttpResponseStatus.METHOD_NOT_ALLOWED, "use " + allow + " on " + path,
                        HttpHeaderNames.ALLOW, allow);
                return;
            }
            if (!authorized(req)) {
                metrics.refused(Refusal.API_UNAUTHORIZED);
                error(ex, HttpResponseStatus.UNAUTHORIZED, "missing or wrong bearer token (see --api-token)",
                        HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"switchboard\"");
                return;
            }
            if (allowed.isEmpty()) {
                error(ex, HttpResponseStatus.NOT_FOUND, "no such endpoint: " + method + " " + path
                        + " (see README, 'Backend API')");
                return;
            }
            route(ex, req, q, path, parts, method);
        } catch (BadRequest e) {
            metrics.refused(Refusal.API_BAD_REQUEST);
            error(ex, HttpResponseStatus.valueOf(e.status), e.getMessage());
        } catch (RuntimeException e) {
            // Answer this request's own place in the order, or every later answer on the connection would wait.
            metrics.loopErrors.increment();
            log.warn("API request {} {} failed: {}", method, path, e.toString());
            internalError(ex, e);
        }
    }

    /** The methods an endpoint answers; none: no such endpoint. {@code parts} is {@code path} cut at '/'. */
    private static List<HttpMethod> allowedMethods(String path, ApiPath parts) {
        switch (path) {
            case "/healthz", "/metrics", "/v1/stats" -> {
                return GET;
            }
            case "/v1/drain", "/v1/broadcast", "/v1/messages" -> {
                return POST;
            }
            default -> {
                // segment 0 is empty because the path starts with '/'
                if (parts.count() == 5 && parts.is(1, "v1") && (parts.is(2, "topics")
                        || parts.is(2, "clients")) && parts.is(4, "messages")) {
                    return POST;
                }
                if (parts.count() == 4 && parts.is(1, "v1") && parts.is(2, "clients")) {
                    return GET_DELETE;
                }
                return List.of();
            }
        }
    }

    private static final List<HttpMethod> GET = List.of(HttpMethod.GET);
    private static final List<HttpMethod> POST = List.of(HttpMethod.POST);
    private static final List<HttpMethod> GET_DELETE = List.of(HttpMethod.GET, HttpMethod.DELETE);

    /** Serves a request whose method {@link #allowedMethods} allows on its path. */
    private void route(Exchange ex, FullHttpRequest req, QueryStringDecoder q, String path, ApiPath parts,
                       HttpMethod method) {
        if (path.equals("/metrics") && method.equals(HttpMethod.GET)) {
            sendText(ex, HttpResponseStatus.OK, stats.prometheus(), "text/plain; version=0.0.4; charset=utf-8");
        } else if (path.equals("/v1/stats") && method.equals(HttpMethod.GET)) {
            send(ex, HttpResponseStatus.OK, stats.json(ApiRequests.boolParam(q, "gc")));
        } else if (path.equals("/v1/drain") && method.equals(HttpMethod.POST)) {
            admin.drain();
            send(ex, HttpResponseStatus.ACCEPTED, JSON.createObjectNode().put("draining", true)
                    .put("drain_period_s", admin.drainPeriodSec()));
        } else if (path.equals("/v1/broadcast") && method.equals(HttpMethod.POST)) {
            byte[] payload = ApiRequests.body(req);
            if (tooLarge(ex, req, payload) || refusedWhileDraining(ex, req)) {
                return;
            }
            answerCount(ex, req, push.broadcast(payload), null);
        } else if (path.equals("/v1/messages") && method.equals(HttpMethod.POST)) {
            batch(ex, req);
        } else if (parts.count() == 5 && parts.is(1, "v1") && parts.is(2, "topics")
                && parts.is(4, "messages") && method.equals(HttpMethod.POST)) {
            String topic = ApiRequests.id(parts.segment(3), "topic");
            byte[] payload = ApiRequests.body(req);
            if (tooLarge(ex, req, payload) || refusedWhileDraining(ex, req)) {
                return;
            }
            if (ApiRequests.boolParam(q, "retain") && !push.retain(topic, payload)) {
                error(ex, HttpResponseStatus.INSUFFICIENT_STORAGE, "retained messages are full "
                        + "(--max-retained, --max-retained-bytes): not published");
                return;
            }
            answerCount(ex, req, push.publish(topic, payload), topic);
        } else if (parts.count() == 5 && parts.is(1, "v1") && parts.is(2, "clients")
                && parts.is(4, "messages") && method.equals(HttpMethod.POST)) {
            pushOne(ex, req, ApiRequests.id(parts.segment(3), "client id"), ApiRequests.ttl(q, maxTtlSec));
        } else if (parts.count() == 4 && parts.is(1, "v1") && parts.is(2, "clients")) {
            String clientId = ApiRequests.id(parts.segment(3), "client id");
            if (method.equals(HttpMethod.GET)) {
                clientInfo(ex, req, clientId);
            } else {
                disconnect(ex, req, q, clientId);
            }
        } else {
            error(ex, HttpResponseStatus.NOT_FOUND, "no such endpoint: " + method + " " + path
                    + " (see README, 'Backend API')");
        }
    }

    // ---- endpoints

    private void pushOne(Exchange ex, FullHttpRequest req, String clientId, int ttlSec) {
        byte[] payload = ApiRequests.body(req);
        whenDone(ex, push.push(clientId, payload, ttlSec), (to, r) -> {
            if (r.ok()) {
                to.respond(HttpResponseStatus.OK, pushAnswer(r.seq(), r.delivered()), "application/json");
            } else {
                error(to, HttpResponseStatus.valueOf(r.status()), r.error());
            }
        });
    }

    /** Messages one {@code POST /v1/messages} may carry (413 beyond): bounds its parse, its answer and a loop turn. */
    static final int MAX_BATCH_MESSAGES = 10_000;

    private void batch(Exchange ex, FullHttpRequest req) {
        List<PushRequest> requests = new ArrayList<>();
        // Streamed, one message's tree at a time: a whole-body tree costs about ten times the JSON.
        try (com.fasterxml.jackson.core.JsonParser json = JSON.createParser(
                (java.io.InputStream) new io.netty.buffer.ByteBufInputStream(req.content().duplicate()))) {
            boolean sawMessages = false;
            if (json.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                throw new BadRequest("body must have a \"messages\" array");
            }
            while (json.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                String field = json.currentName();
                com.fasterxml.jackson.core.JsonToken value = json.nextToken();
                if (!field.equals("messages")) {
                    json.skipChildren();
                    continue;
                }
                if (value != com.fasterxml.jackson.core.JsonToken.START_ARRAY || sawMessages) {
                    throw new BadRequest("body must have one \"messages\" array");
                }
                sawMessages = true;
                while (json.nextToken() != com.fasterxml.jackson.core.JsonToken.END_ARRAY) {
                    if (requests.size() == MAX_BATCH_MESSAGES) {
                        throw new BadRequest(413, "a batch carries at most " + MAX_BATCH_MESSAGES
                                + " messages: split it");
                    }
                    requests.add(batchItem(JSON.readTree(json)));
                }
            }
            if (!sawMessages) {
                throw new BadRequest("body must have a \"messages\" array");
            }
            if (json.nextToken() != null) {
                throw new BadRequest("body must be one JSON object");
            }
        } catch (java.io.IOException e) {
            throw new BadRequest("body must be JSON: {\"messages\":[{\"client\":\"id\",\"payload\":\"text\","
                    + "\"ttl\":0}]}");
        }
        whenDone(ex, push.pushBatch(requests), (to, results) -> {
            ObjectNode out = JSON.createObjectNode();
            ArrayNode arr = out.putArray("results");
            int accepted = 0;
            for (int i = 0; i < results.length; i++) {
                PushResult r = results[i];
                ObjectNode n = arr.addObject().put("client", requests.get(i).clientId()).put("status", r.status());
                if (r.ok()) {
                    accepted++;
                    n.put("seq", r.seq()).put("delivered", r.delivered());
                } else {
                    n.put("error", r.error());
                }
            }
            out.put("accepted", accepted).put("refused", results.length - accepted);
            send(to, HttpResponseStatus.OK, out);
        });
    }

    /** One message of a batch: {@code {"client":"id","payload":"text" | "payload_b64":"...","ttl":0}}. */
    private PushRequest batchItem(JsonNode m) {
        // Strings only: Jackson's asText() makes "" of an object or array (a push of nothing, answered 200) and "42"
        // of a number.
        JsonNode id = m.path("client");
        String client = id.isTextual() ? id.asText() : null;
        if (client == null || !Names.isValidClientId(client)) {
            throw new BadRequest("each message needs \"client\" (a string): " + Names.RULE);
        }
        byte[] payload;
        if (m.hasNonNull("payload_b64")) {
            try {
                payload = Base64.getDecoder().decode(text(m, "payload_b64", client));
            } catch (IllegalArgumentException e) {
                throw new BadRequest("payload_b64 of " + client + " is not base64");
            }
        } else if (m.hasNonNull("payload")) {
            payload = text(m, "payload", client).getBytes(StandardCharsets.UTF_8);
        } else {
            throw new BadRequest("message to " + client + " needs \"payload\" (text) or \"payload_b64\"");
        }
        return new PushRequest(client, payload, ApiRequests.ttl(m.get("ttl"), maxTtlSec));
    }

    /** {@code m}'s {@code field}, which must be a JSON string (else 400). */
    private static String text(JsonNode m, String field, String client) {
        JsonNode v = m.get(field);
        if (!v.isTextual()) {
            throw new BadRequest("\"" + field + "\" of the message to " + client + " must be a string, not "
                    + v.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " (send JSON as text: "
                    + "\"payload\":\"{\\\"price\\\":42}\")");
        }
        return v.asText();
    }

    private void clientInfo(Exchange ex, FullHttpRequest req, String clientId) {
        whenDone(ex, push.info(clientId), (to, info) -> {
            if (info == null) {
                error(to, HttpResponseStatus.NOT_FOUND, "unknown client " + clientId
                        + " (not connected and nothing stored)");
                return;
            }
            send(to, HttpResponseStatus.OK, toJson(info));
        });
    }

    private void disconnect(Exchange ex, FullHttpRequest req, QueryStringDecoder q, String clientId) {
        String reason = ApiRequests.param(q, "reason", "disconnected by backend");
        int code = ApiRequests.intParam(q, "code", DISCONNECT_DEFAULT_CODE);
        if (!BYE_CODES.contains(code)) {
            throw new BadRequest("code must be one of " + new java.util.TreeSet<>(BYE_CODES));
        }
        // One printable line well under the protocol's 1,024-byte control-line limit, and no word the client would
        // take for the server's retry hint (BYE <code> <text> [retry=<ms>]).
        String text = reason.replaceAll("[^\\x20-\\x7e]", "?").replaceAll("(?i)retry=", "retry:");
        if (text.length() > 200) {
            text = text.substring(0, 200);
        }
        whenDone(ex, push.disconnect(clientId, code, text), (to, done) -> {
            if (Boolean.TRUE.equals(done)) {
                send(to, HttpResponseStatus.OK, JSON.createObjectNode().put("disconnected", true));
            } else {
                error(to, HttpResponseStatus.NOT_FOUND, "client " + clientId + " is not connected");
            }
        });
    }

    /**
     * The answer to a broadcast or topic message: the clients reached and, in a cluster, only when there are any,
     * the other nodes that did not confirm theirs (their clients are not counted, though they may have it).
     */
    private void answerCount(Exchange ex, FullHttpRequest req, CompletableFuture<Reach> f, String topic) {
        whenDone(ex, f, (to, reach) -> {
            ObjectNode out = JSON.createObjectNode();
            if (topic != null) {
                out.put("topic", topic);
            }
            out.put("delivered", reach.delivered());
            if (!reach.unconfirmedNodes().isEmpty()) {
                reach.unconfirmedNodes().forEach(out.putArray("unconfirmed_nodes")::add);
            }
            send(to, HttpResponseStatus.OK, out);
        });
    }

    /**
     * Answers {@code ex} once {@code f} completes: {@code answer} writes the answer of a result; a failed future,
     * or an answer that throws, is answered 500 instead, so the connection's later answers are never held up.
     */
    private <T> void whenDone(Exchange ex, CompletableFuture<T> f, BiConsumer<Exchange, T> answer) {
        f.whenComplete((result, err) -> {
            if (err != null) {
                // The service counted and logged the failure where it happened; here it only needs its answer.
                internalError(ex, err instanceof CompletionException && err.getCause() != null ? err.getCause() : err);
                return;
            }
            try {
                answer.accept(ex, result);
            } catch (RuntimeException e) {
                metrics.loopErrors.increment();
                log.warn("API answer failed: {}", e.toString());
                internalError(ex, e);
            }
        });
    }

    static ObjectNode toJson(ClientInfo info) {
        ObjectNode n = JSON.createObjectNode()
                .put("id", info.id())
                .put("online", info.online())
                .put("since_ms", info.sinceMs())
                .put("seq", info.lastSeq())
                .put("acked", info.ackedSeq())
                .put("queued", info.queued())
                .put("queued_bytes", info.queuedBytes())
                .put("in_flight", info.inFlight());
        if (info.remoteAddress() != null) {
            n.put("remote", info.remoteAddress());
        } else {
            n.putNull("remote");
        }
        if (info.node() != null) {
            n.put("node", info.node());
        }
        if (info.protocol() != null) {
            n.put("protocol", info.protocol());
        }
        return n;
    }

    // ---- request helpers

    private boolean authorized(FullHttpRequest req) {
        return apiToken.admits(req.headers());
    }

    private boolean tooLarge(Exchange ex, FullHttpRequest req, byte[] payload) {
        if (payload.length > maxPayloadBytes) {
            metrics.refused(Refusal.PAYLOAD_TOO_LARGE);
            error(ex, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "payload of " + payload.length
                    + " bytes is larger than --max-payload " + maxPayloadBytes);
            return true;
        }
        return false;
    }

    private boolean refusedWhileDraining(Exchange ex, FullHttpRequest req) {
        if (admin.draining()) {
            metrics.refused(Refusal.DRAINING);
            error(ex, HttpResponseStatus.SERVICE_UNAVAILABLE, "server is draining");
            return true;
        }
        return false;
    }

    // ---- responses

    /** {@code {"seq":N,"delivered":B}}, as Jackson writes it, without building a tree per push. */
    static byte[] pushAnswer(long seq, boolean delivered) {
        return ("{\"seq\":" + seq + (delivered ? ",\"delivered\":true}" : ",\"delivered\":false}"))
                .getBytes(StandardCharsets.US_ASCII);
    }

    private static void internalError(Exchange ex, Throwable cause) {
        if (cause instanceof io.switchboard.service.Unavailable u) {
            error(ex, HttpResponseStatus.SERVICE_UNAVAILABLE, u.getMessage(), HttpHeaderNames.RETRY_AFTER, "1");
            return;
        }
        error(ex, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + cause.getClass().getSimpleName());
    }

    private static void error(Exchange ex, HttpResponseStatus status, String msg) {
        send(ex, status, JSON.createObjectNode().put("error", msg).put("status", status.code()));
    }

    /** An error answer with one extra header ({@code Allow}, {@code WWW-Authenticate}). */
    private static void error(Exchange ex, HttpResponseStatus status, String msg, CharSequence header, String value) {
        send(ex, status, JSON.createObjectNode().put("error", msg).put("status", status.code()), header, value);
    }

    private static void send(Exchange ex, HttpResponseStatus status, JsonNode n) {
        send(ex, status, n, null, null);
    }

    private static void send(Exchange ex, HttpResponseStatus status, JsonNode n, CharSequence header, String value) {
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(n);
        } catch (java.io.IOException e) {
            body = "{\"error\":\"internal\"}".getBytes(StandardCharsets.US_ASCII);
            status = HttpResponseStatus.INTERNAL_SERVER_ERROR;
        }
        ex.respond(status, body, "application/json", header, value);
    }

    private static void sendText(Exchange ex, HttpResponseStatus status, String text, String contentType) {
        ex.respond(status, text.getBytes(StandardCharsets.UTF_8), contentType);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            // A half-close: the requests already read are answered, then the connection is closed.
            Exchange.inputClosed(ctx);
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        push.flushPushes(); // the clients' messages first, then the answers saying they were sent
        Exchange.readComplete(ctx); // one flush for the answers of everything just read
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange.updateReading(ctx.channel());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Errors inside a request are answered in routeing (its own place in the order); what reaches here is a
        // broken connection or codec: log it once and close.
        if (cause instanceof java.io.IOException
                || cause instanceof io.netty.handler.codec.PrematureChannelClosureException
                || cause instanceof io.netty.handler.codec.http2.Http2Exception
                || io.switchboard.transport.ServerTls.isTlsError(cause)) {
            // The peer reset or vanished (an aborted request), broke HTTP/2's rules or TLS's: its business, not a
            // fault of the server.
            log.debug("API connection {} ended: {}", ctx.channel().remoteAddress(), cause.toString());
        } else {
            metrics.loopErrors.increment();
            log.warn("API connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        }
        ctx.close();
    }

}
