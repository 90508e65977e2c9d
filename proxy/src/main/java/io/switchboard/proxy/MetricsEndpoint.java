package io.switchboard.proxy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /metrics} (Prometheus text) and {@code GET /healthz} (200 ok, 503 while draining) on
 * {@code --metrics-bind:--metrics-port}. A scrape every few seconds does not need the event loops: the JDK's small
 * HTTP server answers on its own thread.
 */
final class MetricsEndpoint implements AutoCloseable {
    private final HttpServer http;

    private MetricsEndpoint(HttpServer http) {
        this.http = http;
    }

    static MetricsEndpoint start(ProxyServer proxy) {
        ProxyConfig c = proxy.config;
        try {
            HttpServer http = HttpServer.create(new InetSocketAddress(c.metricsBind, c.metricsPort), 16);
            http.createContext("/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8",
                    proxy.prometheus()));
            http.createContext("/healthz", ex -> respond(ex, proxy.draining() ? 503 : 200,
                    "text/plain; charset=utf-8", proxy.draining() ? "draining\n" : "ok\n"));
            http.start();
            return new MetricsEndpoint(http);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for metrics on " + c.metricsBind + ":" + c.metricsPort, e);
        }
    }

    int port() {
        return http.getAddress().getPort();
    }

    private static void respond(HttpExchange ex, int status, String type, String body) throws IOException {
        try (ex) {
            if (!"GET".equals(ex.getRequestMethod())) {
                ex.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", type);
            ex.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
