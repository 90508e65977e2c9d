package io.switchboard.protocol.ws;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * The HTTP/1.1 request that opens a WebSocket (RFC 6455 §4.2.1), parsed from its head by hand: the request line and
 * the few headers the handshake reads. A parse either yields an upgrade to accept or the HTTP answer that refuses it
 * ({@link Refused}). Immutable.
 *
 * @param path          the request target without its query ({@code /swb}, {@code /mqtt})
 * @param key           {@code Sec-WebSocket-Key}
 * @param origin        {@code Origin}, or null (not a browser)
 * @param host          {@code Host}, or null
 * @param subprotocols  {@code Sec-WebSocket-Protocol}, in the client's order of preference
 */
record UpgradeRequest(String path, String key, String origin, String host, List<String> subprotocols) {
    /** Longest request head accepted; beyond it the answer is 431. */
    static final int MAX_HEAD_BYTES = 8 * 1024;
    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /** A request that cannot be upgraded: the status and the one-line reason sent back before closing. */
    static final class Refused extends Exception {
        final int status;

        Refused(int status, String reason) {
            super(reason, null, false, false);
            this.status = status;
        }
    }

    /**
     * Parses a request head ({@code head} is its bytes without the blank line that ends it).
     *
     * @throws Refused naming the HTTP status and what is wrong
     */
    static UpgradeRequest parse(byte[] head) throws Refused {
        String text = new String(head, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\r\n", -1);
        String[] requestLine = lines[0].split(" ", -1);
        if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/1.")) {
            throw new Refused(400, "not an HTTP/1.1 request line");
        }
        if (requestLine[2].equals("HTTP/1.0")) {
            throw new Refused(400, "a WebSocket opens with an HTTP/1.1 request (RFC 6455 4.1), this one is HTTP/1.0");
        }
        if (!requestLine[0].equals("GET")) {
            throw new Refused(405, "a WebSocket opens with GET");
        }
        String target = requestLine[1];
        int query = target.indexOf('?');
        String path = query < 0 ? target : target.substring(0, query);
        String upgrade = null;
        String connection = null;
        String version = null;
        String key = null;
        String origin = null;
        String host = null;
        List<String> subprotocols = List.of();
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new Refused(400, "malformed header line");
            }
            String value = line.substring(colon + 1).strip();
            switch (line.substring(0, colon).toLowerCase(Locale.ROOT)) {
                // A header that comes more than once is one comma-separated list (RFC 9110 5.3; RFC 6455 11.3.4).
                case "upgrade" -> upgrade = upgrade == null ? value : upgrade + ", " + value;
                case "connection" -> connection = connection == null ? value : connection + ", " + value;
                // Each of these once (RFC 6455 11.3.1: the key MUST NOT appear more than once): with two, which one
                // a proxy in front checked and which one this server would take could differ.
                case "sec-websocket-version" -> version = once(version, value, "Sec-WebSocket-Version");
                case "sec-websocket-key" -> key = once(key, value, "Sec-WebSocket-Key");
                case "origin" -> origin = once(origin, value, "Origin");
                case "host" -> {
                    if (host != null) {
                        throw new Refused(400, "more than one Host header");
                    }
                    host = value;
                }
                case "sec-websocket-protocol" -> {
                    List<String> more = tokens(value);
                    subprotocols = subprotocols.isEmpty() ? more
                            : java.util.stream.Stream.concat(subprotocols.stream(), more.stream()).toList();
                }
                default -> { // not needed by the handshake (extensions are declined by not answering them)
                }
            }
        }
        if (host == null) {
            throw new Refused(400, "no Host header (an HTTP/1.1 request names its host)");
        }
        if (upgrade == null || !tokens(upgrade.toLowerCase(Locale.ROOT)).contains("websocket")
                || connection == null || !tokens(connection.toLowerCase(Locale.ROOT)).contains("upgrade")) {
            throw new Refused(426, "this port speaks WebSocket only: open ws://host:port/swb or /mqtt");
        }
        if (!"13".equals(version)) {
            throw new Refused(426, "Sec-WebSocket-Version must be 13");
        }
        if (key == null || !validKey(key)) {
            throw new Refused(400, "Sec-WebSocket-Key must be 16 bytes in base64");
        }
        return new UpgradeRequest(path, key, origin, host, subprotocols);
    }

    /** Whether a page from {@link #origin} may connect, given {@code --ws-allowed-origins}. */
    boolean originAllowed(List<String> allowed) {
        if (origin == null || allowed.contains("*")) {
            return true;
        }
        if (allowed.isEmpty()) {
            // Same origin only: the page was served by the host it connects to.
            int scheme = origin.indexOf("://");
            return scheme > 0 && host != null && origin.substring(scheme + 3).equalsIgnoreCase(host);
        }
        for (String o : allowed) {
            if (o.equalsIgnoreCase(origin)) {
                return true;
            }
        }
        return false;
    }

    /** {@code Sec-WebSocket-Accept} for this request's key. */
    String acceptKey() {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] digest = sha1.digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is part of every JDK", e);
        }
    }

    /** The 101 answer, naming {@code subprotocol} when one was chosen. */
    byte[] switchingProtocols(String subprotocol) {
        String response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + acceptKey() + "\r\n"
                + (subprotocol != null ? "Sec-WebSocket-Protocol: " + subprotocol + "\r\n" : "") + "\r\n";
        return response.getBytes(StandardCharsets.US_ASCII);
    }

    /** An answer refusing the upgrade, with the reason as its text body; the connection closes after it. */
    static byte[] refusal(int status, String reason) {
        return refusal(status, reason, 0);
    }

    /** As above, with {@code Retry-After} when {@code retryAfterSec > 0} (a refusal under load: come back later). */
    static byte[] refusal(int status, String reason, int retryAfterSec) {
        String phrase = switch (status) {
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 426 -> "Upgrade Required";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            case 503 -> "Service Unavailable";
            default -> "Error";
        };
        byte[] body = (reason + "\n").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + phrase + "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + body.length + "\r\n"
                // RFC 9110 7.8: who sends Upgrade names it in Connection too
                + (status == 426 ? "Connection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                : "Connection: close\r\n")
                + (status == 405 ? "Allow: GET\r\n" : "")
                + (retryAfterSec > 0 ? "Retry-After: " + retryAfterSec + "\r\n" : "") + "\r\n";
        byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[headBytes.length + body.length];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        System.arraycopy(body, 0, all, headBytes.length, body.length);
        return all;
    }

    private static String once(String earlier, String value, String name) throws Refused {
        if (earlier != null) {
            throw new Refused(400, "more than one " + name + " header");
        }
        return value;
    }

    private static boolean validKey(String key) {
        try {
            // 16 bytes in base64: 24 characters, padding included (Java's decoder takes it without).
            return key.length() == 24 && Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** A comma-separated header value as its trimmed, non-empty elements. */
    private static List<String> tokens(String value) {
        return java.util.Arrays.stream(value.split(",")).map(String::strip).filter(t -> !t.isEmpty()).toList();
    }
}
