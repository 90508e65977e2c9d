package io.switchboard.proxy;

import io.switchboard.options.CidrList;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options of one route, shared by the command line ({@code switchboard proxy --listen ... --upstream ...}) and
 * the {@code listen} blocks of a config file ({@link ProxyFile}), so both spell and check them the same way.
 */
public final class RouteOptions {
    @Option(names = "--listen", paramLabel = "ADDR:PORT", description = "Address to accept on.")
    String listen;
    @Option(names = "--upstream", paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "Where connections are forwarded (resolved at start and at each reload; at most 64).")
    String upstream;
    @Option(names = "--balance", description = "Upstream choice: rr (round robin) or least (fewest connections).")
    String balance = "rr";
    @Option(names = "--connect-timeout", description = "Milliseconds for an upstream connect.")
    int connectTimeoutMs = 3000;
    @Option(names = "--retries", description = "Other upstreams tried after a failed connect.")
    int retries = 2;
    @Option(names = "--max-fails", description = "Consecutive connect failures that mark an upstream down.")
    int maxFails = 1;
    @Option(names = "--fail-timeout", description = "Seconds a failed upstream stays down before it is tried again.")
    int failTimeoutSec = 10;
    @Option(names = "--health-interval", description = "Seconds between active TCP checks of upstreams; 0 = off.")
    int healthIntervalSec;
    @Option(names = "--send-proxy", paramLabel = "v1|v2", description = "Send a PROXY protocol header to upstreams.")
    String sendProxy;
    @Option(names = "--accept-proxy", arity = "0..1", description = "Expect a PROXY protocol header (v1 or v2) on "
            + "accepted connections; limits, allow/deny and the header sent upstream use its address.")
    boolean acceptProxy;
    @Option(names = "--accept-proxy-from", paramLabel = "CIDR[,CIDR...]", description = "With --accept-proxy: the "
            + "only peers (the proxies in front) whose PROXY header is believed; a connection from anywhere else is "
            + "refused (proxy_untrusted), since its header could announce any address.")
    String acceptProxyFrom = RouteConfig.DEFAULT_ACCEPT_PROXY_FROM;
    @Option(names = "--accept-proxy-timeout", description = "Seconds a connection has to send its PROXY header.")
    int acceptProxyTimeoutSec = 10;
    @Option(names = "--allow", paramLabel = "CIDR[,CIDR...]", description = "Only these source blocks (default: all).")
    String allow;
    @Option(names = "--deny", paramLabel = "CIDR[,CIDR...]", description = "Refuse these source blocks (wins over --allow).")
    String deny;
    @Option(names = "--idle-timeout", description = "Seconds without a byte either way before a connection closes; "
            + "0 = never (checked once a second).")
    int idleTimeoutSec = 3600;
    @Option(names = "--tls-cert", paramLabel = "PEM", description = "Terminate TLS on the listener with this "
            + "certificate chain (PEM; needs --tls-key). OpenSSL (netty-tcnative) when available, else the JDK.")
    Path tlsCert;
    @Option(names = "--tls-key", paramLabel = "PEM", description = "Private key of --tls-cert: PEM, PKCS#8 (BEGIN PRIVATE KEY; convert a PKCS#1 key with openssl pkcs8 -topk8 -nocrypt).")
    Path tlsKey;
    @Option(names = "--tls-provider", description = "TLS engine: auto (OpenSSL when it loads, else the JDK), "
            + "openssl or jdk.")
    String tlsProvider = "auto";
    @Option(names = "--tls-handshake-timeout", description = "Seconds a client has to complete the TLS handshake.")
    int tlsHandshakeTimeoutSec = 10;
    @Option(names = "--splice", arity = "0..1", description = "Forward with splice(2): bytes go socket -> pipe -> "
            + "socket without entering the JVM. --transport epoll only, not with --tls-cert. Each connection holds "
            + "two pipes: 6 file descriptors instead of 2, so the open-files limit allows a third of the connections.")
    boolean splice;

    /** The route these options describe; errors name the option in one line. */
    RouteConfig toRoute() {
        if (listen == null || listen.isBlank()) {
            throw new IllegalArgumentException("--listen ADDR:PORT is missing");
        }
        if (upstream == null || upstream.isBlank()) {
            throw new IllegalArgumentException("--upstream HOST:PORT[,HOST:PORT...] is missing");
        }
        RouteConfig r = new RouteConfig();
        r.listen = Addresses.hostPort("--listen", listen);
        r.upstreams = Addresses.hostPorts("--upstream", upstream);
        r.balance = RouteConfig.Balance.parse(balance);
        r.connectTimeoutMs = connectTimeoutMs;
        r.retries = retries;
        r.maxFails = maxFails;
        r.failTimeoutSec = failTimeoutSec;
        r.healthIntervalSec = healthIntervalSec;
        r.sendProxy = RouteConfig.SendProxy.parse(sendProxy);
        r.acceptProxy = acceptProxy;
        r.acceptProxyFrom = CidrList.parse("--accept-proxy-from", acceptProxyFrom);
        if (r.acceptProxyFrom.isEmpty()) {
            throw new IllegalArgumentException("--accept-proxy-from needs at least one address block");
        }
        r.proxyHeaderTimeoutSec = acceptProxyTimeoutSec;
        r.allow = CidrList.parse("--allow", allow);
        r.deny = CidrList.parse("--deny", deny);
        r.idleTimeoutSec = idleTimeoutSec;
        r.tlsCert = tlsCert;
        r.tlsKey = tlsKey;
        r.tlsHandshakeTimeoutSec = tlsHandshakeTimeoutSec;
        r.tlsProvider = RouteConfig.TlsProvider.parse(tlsProvider);
        r.splice = splice;
        return r;
    }
}
