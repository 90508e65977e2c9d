package io.switchboard.doctor;

import java.util.OptionalLong;

/**
 * {@code fs.epoll.max_user_watches}: every socket the epoll transport watches counts against a
 * per-user total shared by all of that user's processes. Stateless.
 */
final class EpollWatchesCheck implements Check {
    static final String ID = "epoll-watches";
    static final String NAME = "fs.epoll.max_user_watches";

    @Override
    public boolean appliesTo(Role role) {
        return true;
    }

    @Override
    public CheckResult run(Context ctx) {
        CheckResult.Builder b = CheckResult.builder(ID, NAME + " (per user)");
        String path = Sysctls.path(NAME);
        OptionalLong watches = ctx.files().readLong(path);
        if (watches.isEmpty()) {
            return b.unknown(ctx.files(), path, Status.WARN).build();
        }
        long w = watches.getAsLong();
        long perConnection = ctx.role().socketsPerConnection();
        long needed = ctx.withReserve(perConnection);
        b.current(Counts.count(w)).value("maxUserWatches", w).value("needed", needed)
                .allows(Context.connectionsWithin(w, perConnection))
                .say("Shared by all processes of one user; the io_uring transport does not use it.");
        if (w < needed) {
            b.status(Status.LIMIT).say("Needs " + Counts.count(needed) + " watches.").fix(Fix.sysctl(NAME, needed));
            ctx.sysctlBlocker(b, NAME);
        }
        return b.build();
    }
}
