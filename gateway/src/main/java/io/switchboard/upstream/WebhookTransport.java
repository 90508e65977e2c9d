package io.switchboard.upstream;

import com.fasterxml.jackson.core.Base64Variants;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP side of a webhook sink: encodes a batch as the JSON body of {@code docs/upstream.md} and POSTs it with
 * the batch and attempt headers on the JDK {@link HttpClient}. Holds no batch state; thread-safe.
 */
final class WebhookTransport {
    private static final JsonFactory JSON = new JsonFactory();

    private final URI url;
    private final String bearerToken;
    private final HttpClient http;
    private final boolean ownsHttp;
    private final String batchIdPrefix;

    /** {@code http == null} builds a client that {@link #close()} shuts down; a given one is left alone. */
    WebhookTransport(URI url, WebhookSink.Options options, HttpClient http) {
        this.url = url;
        this.bearerToken = options.bearerToken();
        if (http == null) {
            this.http = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofMillis(options.requestTimeoutMs()))
                    // Plain http stays HTTP/1.1 (no h2c upgrade dance); https negotiates HTTP/2 by ALPN.
                    .version("https".equalsIgnoreCase(url.getScheme()) ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .build();
            this.ownsHttp = true;
        } else {
            this.http = http;
            this.ownsHttp = false;
        }
        // Unique across processes sharing a port and across restarts, so backends can deduplicate retries.
        this.batchIdPrefix = UUID.randomUUID() + "-";
    }

    /** The POST of attempt {@code attempt} of batch {@code batchId}. */
    HttpRequest request(long batchId, int attempt, byte[] body, long timeoutMs) {
        HttpRequest.Builder req = HttpRequest.newBuilder(url)
                .timeout(Duration.ofMillis(timeoutMs))
                .header("Content-Type", "application/json")
                .header("User-Agent", "switchboard-webhook")
                .header(WebhookSink.BATCH_HEADER, batchIdPrefix + batchId)
                .header(WebhookSink.ATTEMPT_HEADER, Integer.toString(attempt))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (bearerToken != null) {
            req.header("Authorization", "Bearer " + bearerToken);
        }
        return req.build();
    }

    /**
     * Starts {@code request}; the future completes on the HTTP client's threads.
     *
     * @throws RuntimeException when the HTTP client refuses to start it
     */
    CompletableFuture<HttpResponse<Void>> send(HttpRequest request) {
        CompletableFuture<HttpResponse<Void>> sent = http.sendAsync(request, HttpResponse.BodyHandlers.discarding());
        // The request timeout of JDK 25's client ends at the response headers: a body that never ends (a webhook
        // or proxy stalled mid-response) would hold the batch, and every SEND in it, unanswered for good. Bounded
        // here, a second later; the exchange is cancelled (aborted) when the bound, or a cancel, ends it.
        long limitMs = request.timeout().map(Duration::toMillis).orElse(DEFAULT_LIMIT_MS) + BODY_GRACE_MS;
        CompletableFuture<HttpResponse<Void>> bounded = sent.copy().orTimeout(limitMs, TimeUnit.MILLISECONDS);
        bounded.whenComplete((r, e) -> {
            if (e != null) {
                sent.cancel(true);
            }
        });
        return bounded;
    }

    /** What a response's body may take beyond the request timeout. */
    static final long BODY_GRACE_MS = 1_000;
    private static final long DEFAULT_LIMIT_MS = 30_000;

    /** The request body for {@code messages}, in order. */
    static byte[] encode(List<WebhookMessage> messages) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + messages.size() * 96);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("messages");
            for (WebhookMessage p : messages) {
                g.writeStartObject();
                g.writeStringField("client", p.clientId);
                g.writeStringField("id", p.sendId);
                if (p.topic != null) {
                    g.writeStringField("topic", p.topic);
                }
                g.writeFieldName("payload_b64");
                // Standard alphabet with padding, no line breaks (RFC 4648 section 4).
                g.writeBinary(Base64Variants.MIME_NO_LINEFEEDS, p.payload, 0, p.payload.length);
                g.writeNumberField("received_ms", p.receivedMs);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Shuts the HTTP client down if this transport built it. */
    void close() {
        if (ownsHttp) {
            http.shutdownNow();
        }
    }
}
