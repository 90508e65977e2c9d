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
        // nothing and the count stays 0 even with connections open. Not so in a container: its count is
        // its own network namespace's, while the host's NAT for a published port tracks every connection
        // in the host's table, whose size this one usually is (nf_conntrack_max is host-wide).
        boolean container = inContainer(ctx.files());
        boolean tracking = count.isEmpty() || used > 0 || container;
        if (container && used == 0 && count.isPresent()) {
            b.say("In a container: " + Sysctls.path(COUNT) + " counts this network namespace only, while the host's"
                    + " NAT for published ports tracks every connection in its table; taken as tracking.");
        }
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

    /** Whether this runs in a container (Docker, Podman, Kubernetes and other containerd users). */
    static boolean inContainer(SystemFiles files) {
        if (files.exists("/.dockerenv") || files.exists("/run/.containerenv")) {
            return true;
        }
        String cgroup = files.read("/proc/1/cgroup").orElse("");
        return cgroup.contains("docker") || cgroup.contains("kubepods") || cgroup.contains("containerd")
                || cgroup.contains("libpod");
    }
}
