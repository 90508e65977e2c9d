package io.switchboard.doctor;

import java.util.OptionalLong;

/**
 * {@code net.ipv4.tcp_tw_reuse} for roles that open connections: whether ports held in
 * TIME_WAIT by closed connections may be reused for new ones. Not a cap on held connections,
 * but reconnect churn exhausts ports without it. Stateless.
 */
final class TimeWaitReuseCheck implements Check {
    static final String ID = "tw-reuse";
    static final String NAME = "net.ipv4.tcp_tw_reuse";

    @Override
    public boolean appliesTo(Role role) {
        return role.opensOutbound();
    }

    @Override
    public CheckResult run(Context ctx) {
        CheckResult.Builder b = CheckResult.builder(ID, NAME);
        String path = Sysctls.path(NAME);
        OptionalLong value = ctx.files().readLong(path);
        if (value.isEmpty()) {
            return b.unknown(ctx.files(), path, Status.OK).build();
        }
        long v = value.getAsLong();
        b.value("tcpTwReuse", v);
        if (v == 1) {
            return b.current("1 (on)").say("Ports of closed connections can be reused at once.").build();
        }
        if (v == 2) {
            return b.current("2 (loopback only)")
                    .say("Reuse is on for loopback only; toward remote destinations set " + NAME + " = 1.")
                    .build();
        }
        b.current(v + " (off)").status(Status.WARN)
                .say("Closed connections keep their port in TIME_WAIT for 60 s, so reconnect storms can run out of ports.")
                .fix(Fix.sysctl(NAME, 1));
        ctx.sysctlBlocker(b, NAME);
        return b.build();
    }
}
