package io.switchboard.upstream;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted webhook on 127.0.0.1: answers each POST with the next queued status (200 when the script is
 * empty), optionally holding requests until {@link #release()}; records every request.
 */
final class FakeWebhook implements AutoCloseable {

    record Request(String method, String path, Headers headers, byte[] body) {}

    private final HttpServer server;
    private final ExecutorService handlers = Executors.newCachedThreadPool();
    final BlockingQueue<Integer> script = new LinkedBlockingQueue<>();
    final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    private final CountDownLatch gate = new CountDownLatch(1);
    private final AtomicInteger toHold = new AtomicInteger();
    private volatile int defaultStatus = 200;
    /** Sent as {@code Retry-After} with every 429 and 503 when not null. */
    volatile String retryAfter;

    FakeWebhook() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(handlers);
        server.createContext("/", this::handle);
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/switchboard");
    }

    /** Holds every request from now on until {@link #release()}. */
    void holdAll() {
        toHold.set(Integer.MAX_VALUE);
    }

    /** Holds the next {@code n} requests until {@link #release()}; later ones are answered at once. */
    void holdNext(int n) {
        toHold.set(n);
    }

    /** Answers held requests and stops holding (for good: one gate per webhook). */
    void release() {
        toHold.set(0);
        gate.countDown();
    }

    void answerAlways(int status) {
        defaultStatus = status;
    }

    Request nextRequest() throws InterruptedException {
        Request r = requests.poll(5, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("no request within 5 s");
        }
        return r;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex; InputStream in = ex.getRequestBody()) {
            byte[] body = in.readAllBytes();
            boolean held = toHold.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
            requests.add(new Request(ex.getRequestMethod(), ex.getRequestURI().getPath(), ex.getRequestHeaders(), body));
            if (held) {
                try {
                    // Bounded: close() releases it; the bound only matters if a test forgets to.
                    gate.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            Integer scripted = script.poll();
            int status = scripted == null ? defaultStatus : scripted;
            if (retryAfter != null && (status == 429 || status == 503)) {
                ex.getResponseHeaders().add("Retry-After", retryAfter);
            }
            ex.sendResponseHeaders(status, -1);
        } catch (IOException e) {
            // The client gave up (timeout or cancel) while the request was held.
        }
    }

    @Override
    public void close() {
        release();
        server.stop(0);
        handlers.shutdownNow();
    }
}
