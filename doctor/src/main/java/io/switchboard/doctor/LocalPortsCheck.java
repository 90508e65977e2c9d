package io.switchboard.doctor;

import java.util.Optional;

/**
 * {@code net.ipv4.ip_local_port_range} for roles that open connections: each (source address,
 * destination) pair can use every port of the range once, so the cap is ports x sources x
 * destinations (ports x sources on kernels without {@code IP_BIND_ADDRESS_NO_PORT}). Stateless.
 */
final class LocalPortsCheck implements Check {
    static final String ID = "local-ports";
    static final String NAME = "net.ipv4.ip_local_port_range";
    static final String RESERVED = "net.ipv4.ip_local_reserved_ports";
    static final long LOWEST_PORT = 1024;
    static final long HIGHEST_PORT = 65535;
    static final long WIDEST_RANGE = HIGHEST_PORT - LOWEST_PORT + 1;

    @Override
    public boolean appliesTo(Role role) {
        return role.opensOutbound();
    }

    @Override
    public CheckResult run(Context ctx) {
        CheckResult.Builder b = CheckResult.builder(ID, "local ports (" + NAME + ")");
        String path = Sysctls.path(NAME);
        Optional<long[]> range = ctx.files().readLongs(path).filter(r -> r.length == 2 && r[0] <= r[1]);
        if (range.isEmpty()) {
            return b.unknown(ctx.files(), path, Status.WARN).build();
        }
        long lo = range.get()[0];
        long hi = range.get()[1];
        long reserved = reservedWithin(ctx.files().read(Sysctls.path(RESERVED)).orElse(""), lo, hi);
        long ports = hi - lo + 1 - reserved;
        int sources = ctx.request().sources();
        int destinations = ctx.request().destinations();
        boolean noPortBind = ctx.kernel().map(KernelVersion::hasBindAddressNoPort).orElse(true);
        // Without IP_BIND_ADDRESS_NO_PORT, bind(src, 0) takes a port from one pool per source address.
        boolean sharedPool = !noPortBind && sources > 1;
        long pairs = sharedPool ? sources : Counts.mul(sources, destinations);
        long allows = Counts.mul(ports, pairs);
        b.current(lo + "-" + hi + ": " + Counts.count(ports) + " ports x " + sources + " source"
                        + (sources == 1 ? "" : "s") + " x " + destinations + " destination" + (destinations == 1 ? "" : "s"))
                .value("low", lo).value("high", hi).value("reservedInRange", reserved).value("ports", ports)
                .value("sources", sources).value("destinations", destinations).value("sharedPortPool", sharedPool)
                .allows(allows);
        if (reserved > 0) {
            b.say(Counts.count(reserved) + " ports of the range are reserved (" + RESERVED + ").");
        }
        if (sharedPool) {
            b.say("This kernel lacks IP_BIND_ADDRESS_NO_PORT (4.2+): binding to a source address reserves a port"
                    + " for every destination, so each source address offers " + Counts.count(ports) + " ports in all.");
        }
        if (allows >= ctx.target()) {
            long perPair = Counts.ceilDiv(ctx.target(), pairs);
            if (noPortBind && perPair > ports / 2) {
                b.say("connect() prefers even ports; past half the range (" + Counts.count(ports / 2)
                        + " per pair) finding a free port slows sharply.");
            }
            return b.build();
        }
        long perPair = Counts.ceilDiv(ctx.target(), pairs);
        b.status(Status.LIMIT).say("Needs " + Counts.count(perPair) + " ports per source and destination pair"
                + " for " + Counts.count(ctx.target()) + " connections.");
        if (perPair <= WIDEST_RANGE - reserved) {
            long newLo = Math.min(lo, HIGHEST_PORT + 1 - perPair - reserved);
            b.fix(Fix.sysctl(NAME, Math.max(LOWEST_PORT, newLo) + " " + HIGHEST_PORT))
                    .say("Keep listening ports out of the new range or list them in " + RESERVED + ".");
        } else {
            long widest = WIDEST_RANGE - reserved;
            long perSource = sharedPool ? widest : Counts.mul(widest, destinations);
            long wantSources = Counts.ceilDiv(ctx.target(), perSource);
            b.fix(Fix.sysctl(NAME, LOWEST_PORT + " " + HIGHEST_PORT))
                    .fix(new Fix(Fix.Kind.OTHER, "source addresses",
                            "use at least " + Counts.count(wantSources) + " source addresses (--sources " + wantSources
                                    + "): on loopback 127.0.0.1 to 127.0.0." + Math.min(wantSources, 254)
                                    + (wantSources > 254 ? " and on through 127.0.0.0/8" : "")
                                    + " need no setup; elsewhere add them with `ip addr add ADDR/32 dev IFACE`",
                            null))
                    .say("Even the widest range (" + LOWEST_PORT + "-" + HIGHEST_PORT + ") is not enough: add source"
                            + " addresses, or destinations (the server listening on more ports).");
        }
        ctx.sysctlBlocker(b, NAME);
        return b.build();
    }

    /** Ports of {@code lo..hi} listed in ip_local_reserved_ports ("8080,9000-9100"). */
    static long reservedWithin(String text, long lo, long hi) {
        long count = 0;
        for (String part : text.strip().split(",")) {
            if (part.isBlank()) {
                continue;
            }
            String[] ends = part.strip().split("-");
            long a = SystemFiles.parseLong(ends[0]).orElse(-1);
            long z = ends.length > 1 ? SystemFiles.parseLong(ends[1]).orElse(-1) : a;
            if (a < 0 || z < a) {
                continue;
            }
            long from = Math.max(a, lo);
            long to = Math.min(z, hi);
            if (from <= to) {
                count += to - from + 1;
            }
        }
        return count;
    }
}
