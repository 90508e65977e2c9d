package io.switchboard.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** The backend API as a test calls it: {@link HttpClient} against 127.0.0.1, every request bounded in time. */
public final class ApiClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    /** One answer of the API. */
    public record Response(int status, String body, String contentType) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON (" + status + "): " + body, e);
            }
        }
    }

    private final HttpClient http;
    private final String base;
    private final String token;

    /** @param token the API token sent as {@code Authorization: Bearer <token>}; null sends no header */
    public ApiClient(int port, String token) {
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
        this.base = "http://127.0.0.1:" + port;
        this.token = token;
    }

    public Response get(String path) throws IOException, InterruptedException {
        return send("GET", path, null, bearer());
    }

    public Response post(String path, String body) throws IOException, InterruptedException {
        return post(path, body.getBytes(StandardCharsets.UTF_8));
    }

    public Response post(String path, byte[] body) throws IOException, InterruptedException {
        return send("POST", path, body, bearer());
    }

    public Response delete(String path) throws IOException, InterruptedException {
        return send("DELETE", path, null, bearer());
    }

    /** Any request with an explicit {@code Authorization} header value (null for none). */
    public Response send(String method, String path, byte[] body, String authorization)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Response(r.statusCode(), r.body(), r.headers().firstValue("content-type").orElse(""));
    }

    private String bearer() {
        return token == null ? null : "Bearer " + token;
    }

    @Override
    public void close() {
        http.close();
    }
}
