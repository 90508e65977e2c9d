package io.switchboard.doctor;

import java.util.OptionalLong;

/** {@code fs.file-max} against {@code fs.file-nr}: open files system-wide. Stateless. */
final class FileMaxCheck implements Check {
    static final String ID = "file-max";
    static final String PATH = "/proc/sys/fs/file-max";
    static final String NR_PATH = "/proc/sys/fs/file-nr";

    @Override
    public boolean appliesTo(Role role) {
        return true;
    }

    @Override
    public CheckResult run(Context ctx) {
        CheckResult.Builder b = CheckResult.builder(ID, "fs.file-max (system-wide)");
        OptionalLong max = ctx.files().readLong(PATH);
        if (max.isEmpty()) {
            return b.unknown(ctx.files(), PATH, Status.WARN).build();
        }
        long fileMax = max.getAsLong();
        // fs.file-nr: allocated, free (always 0 since 2.6), maximum.
        OptionalLong open = ctx.files().readLong(NR_PATH);
        long inUse = open.orElse(0);
        long fds = ctx.role().socketsPerConnection();
        long needed = ctx.withReserve(fds);
        b.current(Counts.count(fileMax) + (open.isPresent() ? " (" + Counts.count(inUse) + " open)" : ""))
                .value("fileMax", fileMax).value("open", open.isPresent() ? inUse : null).value("needed", needed)
                .allows(Context.connectionsWithin(fileMax - inUse, fds));
        if (open.isEmpty()) {
            b.say(NR_PATH + " is missing, so files already open elsewhere are not counted.");
        }
        if (fileMax - inUse < needed) {
            long wanted = Counts.add(inUse, needed);
            b.status(Status.LIMIT)
                    .say("Needs " + Counts.count(needed) + " more open files system-wide; "
                            + Counts.count(inUse) + " are open already. Processes with CAP_SYS_ADMIN may exceed it.")
                    .fix(Fix.sysctl("fs.file-max", wanted));
            ctx.sysctlBlocker(b, "fs.file-max");
        }
        return b.build();
    }
}
