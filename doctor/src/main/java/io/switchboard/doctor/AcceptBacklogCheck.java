package io.switchboard.doctor;

import java.util.OptionalLong;

/**
 * {@code net.core.somaxconn} and {@code net.ipv4.tcp_max_syn_backlog} for roles that listen.
 * They cap bursts of new connections, not how many are held: a short queue turns a reconnect
 * storm into SYN retries of 1 s, 3 s, 7 s. Stateless; one instance per setting.
 */
final class AcceptBacklogCheck implements Check {
    static final String SOMAXCONN = "net.core.somaxconn";
    static final String SYN_BACKLOG = "net.ipv4.tcp_max_syn_backlog";
    /** The kernel default for somaxconn since 5.4. */
    static final long DEFAULT_BACKLOG = 4_096;
    /** For large targets, where a restart makes every client reconnect at once. */
    static final long LARGE_BACKLOG = 65_535;
    static final long LARGE_TARGET = 100_000;

    private final String id;
    private final String name;

    private AcceptBacklogCheck(String id, String name) {
        this.id = id;
        this.name = name;
    }

    static AcceptBacklogCheck somaxconn() {
        return new AcceptBacklogCheck("somaxconn", SOMAXCONN);
    }

    static AcceptBacklogCheck synBacklog() {
        return new AcceptBacklogCheck("syn-backlog", SYN_BACKLOG);
    }

    /** The backlog this doctor recommends for a target. */
    static long recommended(long target) {
        return target >= LARGE_TARGET ? LARGE_BACKLOG : DEFAULT_BACKLOG;
    }

    @Override
    public boolean appliesTo(Role role) {
        return role.accepts();
    }

    @Override
    public CheckResult run(Context ctx) {
        CheckResult.Builder b = CheckResult.builder(id, name + " (bursts)");
        String path = Sysctls.path(name);
        OptionalLong value = ctx.files().readLong(path);
        if (value.isEmpty()) {
            return b.unknown(ctx.files(), path, Status.WARN).build();
        }
        long v = value.getAsLong();
        long recommended = recommended(ctx.target());
        long wanted = Math.min(ctx.target(), recommended);
        b.current(Counts.count(v)).value(name.substring(name.lastIndexOf('.') + 1), v).value("recommended", recommended);
        boolean low = v < wanted;
        if (name.equals(SOMAXCONN)) {
            b.say("Caps every listen() backlog (Netty asks for this value); it limits connection bursts, not the total.");
            long overflows = listenOverflows(ctx);
            if (overflows >= 0) {
                b.value("listenOverflows", overflows);
                if (overflows > 0) {
                    b.say("The accept queue has overflowed " + Counts.count(overflows) + " times since boot (ListenOverflows).");
                }
            }
        } else {
            OptionalLong cookies = ctx.files().readLong(Sysctls.path("net.ipv4.tcp_syncookies"));
            b.value("syncookies", cookies.isPresent() ? cookies.getAsLong() : null);
            b.current(Counts.count(v) + (cookies.orElse(-1) == 1 ? " (syncookies on)" : ""));
            // With syncookies a full SYN queue answers with cookies instead of dropping.
            if (low && cookies.orElse(0) != 0) {
                low = false;
                b.say("When this queue fills, syncookies take over, so it does not drop connection attempts.");
            } else {
                b.say("Half-open connections waiting for the handshake; a burst beyond it is dropped.");
            }
        }
        if (low) {
            b.status(Status.WARN).say("Below " + Counts.count(wanted) + ": reconnect storms after a restart will retry for seconds.")
                    .fix(Fix.sysctl(name, recommended));
            ctx.sysctlBlocker(b, name);
        }
        return b.build();
    }

    /** ListenOverflows from the TcpExt block of {@code /proc/<pid>/net/netstat}, or -1. */
    private static long listenOverflows(Context ctx) {
        String[] header = null;
        for (String line : ctx.files().lines(ctx.request().procDir() + "/net/netstat")) {
            if (!line.startsWith("TcpExt:")) {
                continue;
            }
            String[] fields = line.substring(7).strip().split("\\s+");
            if (header == null) {
                header = fields;
                continue;
            }
            for (int i = 0; i < header.length && i < fields.length; i++) {
                if (header[i].equals("ListenOverflows")) {
                    return SystemFiles.parseLong(fields[i]).orElse(-1);
                }
            }
            return -1;
        }
        return -1;
    }
}
