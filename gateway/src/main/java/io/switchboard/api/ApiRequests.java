package io.switchboard.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.switchboard.service.Names;
import java.util.List;

/**
 * Reading a backend API request: its body, path segments (client ids, topics) and query parameters, each checked
 * with a one-line reason ({@link BadRequest}, answered 400). Stateless.
 */
final class ApiRequests {
    private ApiRequests() {
    }

    /**
     * The request target in origin form ({@code /v1/...?q}): an absolute-form target ({@code http://host/v1/...}, as
     * a client sends through a proxy), which a server must accept (RFC 9112 3.2.2), without its scheme and authority.
     */
    static String originForm(String target) {
        int scheme = target.indexOf("://");
        if (scheme <= 0 || target.charAt(0) == '/' || !target.regionMatches(true, 0, "http", 0, 4)) {
            return target;
        }
        int path = target.indexOf('/', scheme + 3);
        int query = target.indexOf('?', scheme + 3);
        if (path < 0 || (query >= 0 && query < path)) {
            return query < 0 ? "/" : "/" + target.substring(query);
        }
        return target.substring(path);
    }

    static byte[] body(FullHttpRequest req) {
        return ByteBufUtil.getBytes(req.content());
    }

    static String id(String raw, String what) {
        String decoded;
        try {
            decoded = QueryStringDecoder.decodeComponent(raw);
        } catch (IllegalArgumentException e) {
            throw new BadRequest(what + " is not valid percent-encoding");
        }
        if (what.equals("topic") ? !Names.isValidTopic(decoded) : !Names.isValidClientId(decoded)) {
            throw new BadRequest(what + " must be " + (what.equals("topic") ? Names.TOPIC_RULE : Names.RULE));
        }
        return decoded;
    }

    /** The {@code ttl} parameter of a push: absent is 0; else digits only, 0 to {@code maxTtlSec}. */
    static int ttl(QueryStringDecoder q, int maxTtlSec) {
        String v = param(q, "ttl", null);
        if (v == null) {
            return 0;
        }
        if (v.isEmpty() || v.length() > 10 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw badTtl(maxTtlSec);
        }
        return checkTtl(Long.parseLong(v), maxTtlSec);
    }

    /** The {@code "ttl"} of a batch item: absent is 0; else a JSON integer (not a string, not 1e3), 0 to max. */
    static int ttl(JsonNode v, int maxTtlSec) {
        if (v == null) {
            return 0;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw badTtl(maxTtlSec);
        }
        return checkTtl(v.longValue(), maxTtlSec);
    }

    private static int checkTtl(long ttl, int maxTtlSec) {
        if (ttl < 0 || ttl > maxTtlSec) {
            throw badTtl(maxTtlSec);
        }
        return (int) ttl;
    }

    private static BadRequest badTtl(int maxTtlSec) {
        return new BadRequest("ttl must be a whole number of seconds from 0 to " + maxTtlSec + " (--max-ttl)");
    }

    static String param(QueryStringDecoder q, String name, String dflt) {
        List<String> v;
        try {
            v = q.parameters().get(name);
        } catch (IllegalArgumentException e) {
            throw new BadRequest("the query string is not valid percent-encoding");
        }
        return v == null || v.isEmpty() ? dflt : v.get(0);
    }

    static int intParam(QueryStringDecoder q, String name, int dflt) {
        String v = param(q, name, null);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new BadRequest(name + " must be a whole number, not '" + v + "'");
        }
    }

    static boolean boolParam(QueryStringDecoder q, String name) {
        String v = param(q, name, "false");
        return v.equals("true") || v.equals("1");
    }

    /** A request the API refuses with 400 (or another 4xx) and this message. */
    static final class BadRequest extends RuntimeException {
        final int status;

        BadRequest(String message) {
            this(400, message);
        }

        BadRequest(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }
}
