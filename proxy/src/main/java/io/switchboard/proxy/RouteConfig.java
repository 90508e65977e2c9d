package io.switchboard.proxy;

import io.switchboard.options.CidrList;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One route: a listening address and where its connections go, with the settings that may differ between
 * listeners (upstreams and their balancing, PROXY headers, TLS, allow/deny, idle timeout). Filled by
 * {@link RouteOptions} (command line or a {@code listen} block of the config file); tests set fields directly.
 * Read-only once the proxy runs: a reload builds new instances.
 */
public final class RouteConfig {
    /** How an upstream is chosen for a new connection. */
    public enum Balance {
        /** Round robin over the upstreams that are up. */
        RR,
        /** The upstream that is up with the fewest open connections from this process. */
        LEAST;

        static Balance parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "rr", "round-robin" -> RR;
                case "least", "least-conn" -> LEAST;
                default -> throw new IllegalArgumentException("--balance must be rr or least, not '" + s + "'");
            };
        }
    }

    /** PROXY protocol header sent to upstreams. */
    public enum SendProxy {
        OFF, V1, V2;

        static SendProxy parse(String s) {
            if (s == null) {
                return OFF;
            }
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "off", "none" -> OFF;
                case "v1", "1" -> V1;
                case "v2", "2" -> V2;
                default -> throw new IllegalArgumentException("--send-proxy must be v1 or v2, not '" + s + "'");
            };
        }
    }

    /** The TLS engine of a listener. */
    public enum TlsProvider {
        AUTO, OPENSSL, JDK;

        static TlsProvider parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "auto" -> AUTO;
                case "openssl", "boringssl" -> OPENSSL;
                case "jdk" -> JDK;
                default -> throw new IllegalArgumentException("--tls-provider must be auto, openssl or jdk, not '"
                        + s + "'");
            };
        }
    }

    public InetSocketAddress listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    public List<InetSocketAddress> upstreams = List.of();
    public Balance balance = Balance.RR;
    public int connectTimeoutMs = 3000;
    /** Further upstreams tried after a failed connect (each upstream at most once per connection). */
    public int retries = 2;
    /** Consecutive connect failures that mark an upstream down. */
    public int maxFails = 1;
    /** Seconds an upstream marked down by failures is skipped before it is tried again. */
    public int failTimeoutSec = 10;
    /** Seconds between active TCP checks of every upstream; 0 = passive marking only. */
    public int healthIntervalSec = 0;
    public SendProxy sendProxy = SendProxy.OFF;
    public boolean acceptProxy = false;
    /**
     * The peers whose PROXY header is believed (with {@link #acceptProxy}): anyone else could announce any address
     * and so pass --allow, --deny and the per-address limits, and have it passed on upstream.
     */
    public CidrList acceptProxyFrom = CidrList.parse("--accept-proxy-from", DEFAULT_ACCEPT_PROXY_FROM);
    static final String DEFAULT_ACCEPT_PROXY_FROM = "127.0.0.0/8,::1";
    /** Seconds an accepted connection has to send its PROXY header (with {@link #acceptProxy}). */
    public int proxyHeaderTimeoutSec = 10;
    public CidrList allow = CidrList.EMPTY;
    public CidrList deny = CidrList.EMPTY;
    /** Seconds without a byte either way before a connection is closed; 0 = never. */
    public int idleTimeoutSec = 3600;
    /** PEM certificate chain and private key: TLS is terminated on this listener when both are set. */
    public Path tlsCert;
    public Path tlsKey;
    /** Which TLS engine: BoringSSL (netty-tcnative) when it loads, or as asked. */
    public TlsProvider tlsProvider = TlsProvider.AUTO;
    /** Seconds a client has to complete the TLS handshake. */
    public int tlsHandshakeTimeoutSec = 10;
    /** Forward with splice(2) through kernel pipes (epoll, plain TCP only). */
    public boolean splice;

    boolean tls() {
        return tlsCert != null;
    }

    /** The route's name in logs and metrics: its listening address. */
    String name() {
        return Addresses.label(listen);
    }

    /** Checks every field; errors name the option, prefixed with {@code where} (e.g. "proxy.conf:12: "). */
    RouteConfig validate(String where) {
        try {
            if (upstreams.isEmpty()) {
                throw new IllegalArgumentException("--upstream needs at least one HOST:PORT");
            }
            if (upstreams.size() > 64) {
                throw new IllegalArgumentException("--upstream takes at most 64 addresses");
            }
            ProxyConfig.range("--accept-proxy-timeout", proxyHeaderTimeoutSec, 1, 3600);
            ProxyConfig.range("--connect-timeout", connectTimeoutMs, 1, 600_000);
            ProxyConfig.range("--retries", retries, 0, 64);
            ProxyConfig.range("--max-fails", maxFails, 1, 1_000_000);
            ProxyConfig.range("--fail-timeout", failTimeoutSec, 0, 86_400);
            ProxyConfig.range("--health-interval", healthIntervalSec, 0, 86_400);
            ProxyConfig.range("--idle-timeout", idleTimeoutSec, 0, 30 * 86_400);
            ProxyConfig.range("--tls-handshake-timeout", tlsHandshakeTimeoutSec, 1, 3600);
            if ((tlsCert == null) != (tlsKey == null)) {
                throw new IllegalArgumentException("--tls-cert and --tls-key go together (PEM certificate chain and "
                        + "its private key)");
            }
            if (splice && tlsCert != null) {
                throw new IllegalArgumentException("--splice cannot be combined with --tls-cert: spliced bytes "
                        + "never reach the JVM, so TLS cannot be terminated on them");
            }
            if (tlsCert != null) {
                readable("--tls-cert", tlsCert);
                readable("--tls-key", tlsKey);
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + e.getMessage(), e);
        }
        return this;
    }

    private static void readable(String option, Path p) {
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException(option + ": cannot read " + p);
        }
    }
}
