package io.switchboard.doctor;

import java.util.OptionalLong;

/**
 * {@code net.netfilter.nf_conntrack_max} against {@code nf_conntrack_count} when connection
 * tracking is loaded: every tracked connection takes an entry, and a full table drops new
 * connections ("nf_conntrack: table full, dropping packet"). Stateless.
 */
final class ConntrackCheck implements Check {
    static final String ID = "conntrack";
    static final String NAME = "net.netfilter.nf_conntrack_max";
    static final String COUNT = "net.netfilter.nf_conntrack_count";

    @Override
    public boolean appliesTo(Role role) {
        return true;
    }

    @Override
    public CheckResult run(Context ctx) {
        CheckResult.Builder b = CheckResult.builder(ID, NAME);
        OptionalLong max = ctx.files().readLong(Sysctls.path(NAME));
        if (max.isEmpty()) {
            return b.current("not loaded").value("loaded", false)
                    .say("Connection tracking is not loaded, so it caps nothing.").build();
        }
        long m = max.getAsLong();
        OptionalLong count = ctx.files().readLong(Sysctls.path(COUNT));
        long used = count.orElse(0);
        long perConnection = ctx.role().socketsPerConnection();
        long needed = ctx.perConnection(perConnection);
        // Loaded is not tracking: without a rule that needs it (NAT, -m state), the kernel tracks
        // nothing and the count stays 0 even with connections open.
        boolean tracking = count.isEmpty() || used > 0;
        b.current(Counts.count(m) + (count.isEmpty() ? "" : tracking ? " (" + Counts.count(used) + " in use)" : " (tracking nothing)"))
                .value("loaded", true).value("tracking", tracking).value("max", m)
                .value("count", count.isPresent() ? used : null).value("needed", needed);
        long allows = Math.max(0, m - used) / perConnection;
        if (count.isEmpty()) {
            b.say(Sysctls.path(COUNT) + " is missing, so entries in use are not counted.");
        }
        if (tracking) {
            b.allows(allows);
        } else {
            b.say("Loaded but tracking no connections now, as no firewall rule uses it; if one starts to, this table"
                    + " holds " + Counts.count(allows) + " connections.");
        }
        if (allows < ctx.target()) {
            b.status(tracking ? Status.LIMIT : Status.WARN)
                    .say("Needs " + Counts.count(needed) + " free entries (" + perConnection + " per connection);"
                            + " alternatively exempt the port from tracking (iptables -t raw ... -j CT --notrack).")
                    .fix(Fix.sysctl(NAME, Counts.add(used, needed)));
            ctx.sysctlBlocker(b, NAME);
        }
        return b.build();
    }
}
