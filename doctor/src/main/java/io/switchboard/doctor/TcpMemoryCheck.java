package io.switchboard.doctor;

import java.util.Optional;

/**
 * {@code net.ipv4.tcp_mem} (pages) against what full default buffers ({@code tcp_rmem} and
 * {@code tcp_wmem} middle values) would cost for the target. Idle sockets with empty buffers use
 * none of it, so this can warn but never limit. Stateless.
 */
final class TcpMemoryCheck implements Check {
    static final String ID = "tcp-mem";
    static final String MEM = "net.ipv4.tcp_mem";
    static final String RMEM = "net.ipv4.tcp_rmem";
    static final String WMEM = "net.ipv4.tcp_wmem";

    @Override
    public boolean appliesTo(Role role) {
        return true;
    }

    @Override
    public CheckResult run(Context ctx) {
        CheckResult.Builder b = CheckResult.builder(ID, "TCP buffer memory (tcp_mem)");
        Optional<long[]> mem = ctx.files().readLongs(Sysctls.path(MEM)).filter(v -> v.length == 3);
        if (mem.isEmpty()) {
            return b.unknown(ctx.files(), Sysctls.path(MEM), Status.OK).build();
        }
        long maxBytes = Counts.mul(mem.get()[2], ConnectionCost.PAGE_BYTES);
        b.current(Counts.bytes(maxBytes) + " max")
                .value("minPages", mem.get()[0]).value("pressurePages", mem.get()[1]).value("maxPages", mem.get()[2])
                .value("maxBytes", maxBytes);
        Optional<long[]> rmem = ctx.files().readLongs(Sysctls.path(RMEM)).filter(v -> v.length == 3);
        Optional<long[]> wmem = ctx.files().readLongs(Sysctls.path(WMEM)).filter(v -> v.length == 3);
        if (rmem.isEmpty() || wmem.isEmpty()) {
            return b.say("tcp_rmem or tcp_wmem is missing, so full-buffer cost is unknown.").value("missing",
                    rmem.isEmpty() ? Sysctls.path(RMEM) : Sysctls.path(WMEM)).build();
        }
        long perSocket = rmem.get()[1] + wmem.get()[1];
        long sockets = ctx.perConnection(ctx.role().socketsPerConnection());
        long fullCost = Counts.mul(sockets, perSocket);
        long coveredConnections = maxBytes / Counts.mul(perSocket, ctx.role().socketsPerConnection());
        b.value("rmemDefault", rmem.get()[1]).value("wmemDefault", wmem.get()[1])
                .value("fullBufferBytesPerSocket", perSocket).value("fullBufferBytes", fullCost)
                .value("fullBufferConnections", coveredConnections)
                .say("Idle connections with empty buffers use none of it. If every buffer filled to the defaults"
                        + " (rmem " + Counts.bytes(rmem.get()[1]) + " + wmem " + Counts.bytes(wmem.get()[1])
                        + " per socket), " + Counts.count(ctx.target()) + " connections would need "
                        + Counts.bytes(fullCost) + "; tcp_mem covers " + Counts.count(coveredConnections)
                        + " such connections, beyond which the kernel drops data and shrinks windows.");
        if (fullCost > maxBytes) {
            b.status(Status.WARN).say("No change needed while connections stay idle; watch for many slow readers at once.");
        }
        return b.build();
    }
}
