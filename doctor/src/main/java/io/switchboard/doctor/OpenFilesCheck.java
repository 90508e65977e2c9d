package io.switchboard.doctor;

import java.util.OptionalLong;

/**
 * The process's open-file limit ({@code RLIMIT_NOFILE}, soft and hard) from
 * {@code /proc/<pid>/limits}: each connection holds one file per socket. Stateless.
 */
final class OpenFilesCheck implements Check {
    static final String ID = "open-files";
    /** The kernel's ceiling for fs.nr_open on 64-bit machines ({@code sysctl_nr_open_max}). */
    static final long NR_OPEN_CEILING = 1_073_741_816L;

    @Override
    public boolean appliesTo(Role role) {
        return true;
    }

    @Override
    public CheckResult run(Context ctx) {
        CheckResult.Builder b = CheckResult.builder(ID, "open files per process");
        String path = ctx.request().procDir() + "/limits";
        long[] softHard = ctx.files().read(path).map(OpenFilesCheck::parseLimits).orElse(null);
        if (softHard == null) {
            return b.unknown(ctx.files(), path, Status.WARN)
                    .say("Check by hand: `ulimit -n` (soft) and `ulimit -Hn` (hard) in the shell that starts Switchboard.")
                    .build();
        }
        long soft = softHard[0];
        long hard = softHard[1];
        long fdsPerConnection = ctx.role().socketsPerConnection();
        long needed = ctx.withReserve(fdsPerConnection);
        long allows = Context.connectionsWithin(soft, fdsPerConnection);
        OptionalLong nrOpen = ctx.files().readLong(NrOpenCheck.PATH);

        b.current("soft " + Counts.count(soft) + ", hard " + Counts.count(hard))
                .value("soft", soft).value("hard", hard)
                .value("filesPerConnection", fdsPerConnection)
                .value("reservedFiles", ConnectionCost.RESERVED_FDS)
                .value("needed", needed)
                .allows(allows);
        String need = "Needs " + Counts.count(needed) + " open files for " + Counts.count(ctx.target())
                + " connections (" + fdsPerConnection + " per connection plus " + ConnectionCost.RESERVED_FDS
                + " the JVM keeps open).";
        if (allows >= ctx.target()) {
            return b.say(need).build();
        }
        b.status(Status.LIMIT).say(need + " The soft limit is " + Counts.count(soft) + ".");
        if (soft < hard) {
            b.say("A JVM raises its soft limit to the hard limit at startup (unless -XX:-MaxFDLimit),"
                    + " so for Switchboard the hard limit is the one that counts.");
        }
        if (needed > NR_OPEN_CEILING) {
            b.say("No single process can open that many files (the kernel's ceiling is "
                    + Counts.count(NR_OPEN_CEILING) + "): spread the connections over several processes.");
        }
        if (needed > hard) {
            nrOpen.ifPresent(n -> {
                if (hard == n) {
                    b.say("The hard limit equals fs.nr_open (" + Counts.count(n) + "), so fs.nr_open must rise first.");
                } else if (needed > n) {
                    b.say("fs.nr_open (" + Counts.count(n) + ") caps every hard limit, so it must rise first.");
                }
            });
            ctx.privilege().hardLimitBlocker().ifPresent(b::cannotRaise);
        }
        if (nrOpen.isPresent() && needed > nrOpen.getAsLong()) {
            b.fix(Fix.sysctl("fs.nr_open", needed));
            ctx.sysctlBlocker(b, "fs.nr_open");
        }
        String n = Long.toString(needed);
        // Never lower a hard limit that is already higher than needed.
        String softHardPair = n + ":" + Math.max(needed, hard);
        if (needed <= hard) {
            b.fix(new Fix(Fix.Kind.ULIMIT, "the shell that starts Switchboard", "ulimit -n " + n, null));
        } else if (ctx.privilege().sysResource()) {
            b.fix(new Fix(Fix.Kind.ULIMIT, "the shell that starts Switchboard (as root: raises soft and hard)",
                    "ulimit -n " + n, null));
        } else {
            b.say("`ulimit -n` can go only up to the hard limit (" + Counts.count(hard) + ") without CAP_SYS_RESOURCE.");
        }
        StringBuilder limitsConf = new StringBuilder();
        boolean raiseHard = needed > hard;
        appendLimits(limitsConf, "*", n, raiseHard);
        if (examinedUid(ctx) == 0) {
            // limits.conf wildcards do not match root; root needs its own lines.
            appendLimits(limitsConf, "root", n, raiseHard);
        }
        b.fix(new Fix(Fix.Kind.LIMITS_CONF, "/etc/security/limits.conf", limitsConf.toString().stripTrailing(),
                "log in again (limits.conf covers login sessions; services need LimitNOFILE)"));
        b.fix(new Fix(Fix.Kind.SYSTEMD, Fix.SYSTEMD_DROP_IN_DIR + "/nofile.conf",
                "[Service]\nLimitNOFILE=" + (raiseHard ? n : softHardPair),
                "systemctl daemon-reload && systemctl restart switchboard"));
        if (raiseHard && ctx.privilege().container()) {
            b.fix(new Fix(Fix.Kind.DOCKER, "where the container is started",
                    "docker run --ulimit nofile=" + n + ":" + n + " ...", null));
        }
        if (ctx.request().pid() != 0) {
            b.fix(new Fix(Fix.Kind.PRLIMIT, "the running process " + ctx.request().pid(),
                    "prlimit --pid " + ctx.request().pid() + " --nofile=" + softHardPair, null));
        }
        if (allows > 0) {
            long processes = Counts.ceilDiv(ctx.target(), allows);
            b.fix(new Fix(Fix.Kind.SPLIT, "or, without changing the limit",
                    "run " + Counts.count(processes) + " processes of at most " + Counts.count(allows)
                            + " connections each" + (ctx.role().accepts() ? " (servers share one port with SO_REUSEPORT)" : ""),
                    null));
        }
        return b.build();
    }

    private static void appendLimits(StringBuilder out, String domain, String n, boolean hard) {
        out.append(String.format("%-8s%-8s%-8s%s", domain, "soft", "nofile", n)).append('\n');
        if (hard) {
            out.append(String.format("%-8s%-8s%-8s%s", domain, "hard", "nofile", n)).append('\n');
        }
    }

    private static long examinedUid(Context ctx) {
        for (String line : ctx.files().lines(ctx.request().procDir() + "/status")) {
            if (line.startsWith("Uid:")) {
                String[] f = line.substring(4).strip().split("\\s+");
                return f.length > 1 ? SystemFiles.parseLong(f[1]).orElse(-1) : -1;
            }
        }
        return -1;
    }

    /** Soft and hard "Max open files" from a limits file; null when absent or malformed. */
    static long[] parseLimits(String text) {
        for (String line : text.lines().toList()) {
            if (!line.startsWith("Max open files")) {
                continue;
            }
            String[] f = line.substring("Max open files".length()).strip().split("\\s+");
            if (f.length < 2) {
                return null;
            }
            OptionalLong soft = limitValue(f[0]);
            OptionalLong hard = limitValue(f[1]);
            return soft.isPresent() && hard.isPresent() ? new long[] {soft.getAsLong(), hard.getAsLong()} : null;
        }
        return null;
    }

    private static OptionalLong limitValue(String token) {
        return token.equals("unlimited") ? OptionalLong.of(Long.MAX_VALUE) : SystemFiles.parseLong(token);
    }
}
