package io.switchboard.doctor;

import java.util.OptionalLong;

/** {@code fs.nr_open}: the ceiling for any process's hard open-file limit. Stateless. */
final class NrOpenCheck implements Check {
    static final String ID = "nr-open";
    static final String PATH = "/proc/sys/fs/nr_open";

    @Override
    public boolean appliesTo(Role role) {
        return true;
    }

    @Override
    public CheckResult run(Context ctx) {
        CheckResult.Builder b = CheckResult.builder(ID, "fs.nr_open");
        OptionalLong nrOpen = ctx.files().readLong(PATH);
        if (nrOpen.isEmpty()) {
            return b.unknown(ctx.files(), PATH, Status.WARN).build();
        }
        long n = nrOpen.getAsLong();
        long fds = ctx.role().socketsPerConnection();
        long needed = ctx.withReserve(fds);
        b.current(Counts.count(n)).value("nrOpen", n).value("needed", needed)
                .allows(Context.connectionsWithin(n, fds))
                .say("The ceiling for every process's hard open-file limit.");
        if (needed > n) {
            b.status(Status.LIMIT)
                    .say("Needs " + Counts.count(needed) + " for " + Counts.count(ctx.target()) + " connections.")
                    .fix(Fix.sysctl("fs.nr_open", needed));
            ctx.sysctlBlocker(b, "fs.nr_open");
        }
        return b.build();
    }
}
