package io.switchboard.doctor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * The server's data directory ({@code --data-dir}, where the disk store keeps its messages): whether
 * a server started from this shell could create and write it, whether another server holds its lock,
 * the filesystem it is on ({@link Mount}) and the free space there. Only looks: never creates the
 * directory or its lock file. Fails when the server would not start, warns when stored messages
 * would not survive a reboot, fsync means less, or space is short. Immutable.
 */
final class DataDirCheck implements Check {
    static final String ID = "data-dir";
    /** Below this much free space the check warns. */
    static final long LOW_SPACE_BYTES = 1L << 30;
    /** The gateway's default --max-store-bytes: this share of the free space, at least 1 MiB, 1 GiB when unknown. */
    static final int STORE_SHARE_OF_FREE = 4;
    static final long MIN_STORE_BYTES = 1L << 20;
    static final long STORE_BYTES_WHEN_FREE_UNKNOWN = 1L << 30;
    private static final Set<String> MEMORY_FILESYSTEMS = Set.of("tmpfs", "ramfs");
    private static final Set<String> NETWORK_FILESYSTEMS = Set.of("nfs", "nfs4", "cifs", "smb3", "fuse.sshfs");

    private final ToLongFunction<Path> usableBytes;

    DataDirCheck() {
        this(DataDirCheck::usableSpace);
    }

    /** @param usableBytes free bytes for this user on the filesystem of an existing path, -1 when unknown */
    DataDirCheck(ToLongFunction<Path> usableBytes) {
        this.usableBytes = usableBytes;
    }

    @Override
    public boolean appliesTo(Role role) {
        return role == Role.SERVER;
    }

    @Override
    public boolean appliesTo(Request request) {
        return appliesTo(request.role()) && request.dataDir() != null;
    }

    /**
     * The data directory of server process {@code pid}: its {@code --data-dir} (default {@code data}) resolved against
     * its own working directory ({@code /proc/PID/cwd}), not the doctor's; empty when they cannot be read.
     */
    static Optional<Path> ofProcess(SystemFiles files, long pid) {
        Optional<String> cmdline = files.read("/proc/" + pid + "/cmdline");
        if (cmdline.isEmpty()) {
            return Optional.empty();
        }
        String[] args = cmdline.get().split("\u0000");
        String dir = DoctorCommand.DEFAULT_DATA_DIR;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--data-dir") && i + 1 < args.length) {
                dir = args[i + 1];
            } else if (args[i].startsWith("--data-dir=")) {
                dir = args[i].substring("--data-dir=".length());
            }
        }
        Path p = Path.of(dir);
        if (p.isAbsolute()) {
            return Optional.of(p.normalize());
        }
        try {
            Path cwd = Files.readSymbolicLink(files.resolve("/proc/" + pid + "/cwd"));
            return Optional.of(cwd.resolve(p).normalize());
        } catch (java.io.IOException | UnsupportedOperationException | SecurityException e) {
            return Optional.empty();
        }
    }

    /** The directory as the server resolves it: against the working directory, normalised. */
    static Path absolute(Path dataDir) {
        return dataDir.toAbsolutePath().normalize();
    }

    @Override
    public CheckResult run(Context ctx) {
        Path dir = absolute(ctx.request().dataDir());
        Path existing = nearestExisting(dir);
        boolean exists = existing.equals(dir);
        Optional<Mount> mount = Mount.holding(ctx.files(), realPath(dir, existing));
        long free = usableBytes.applyAsLong(existing);
        StoreLock lock = exists ? StoreLock.probe(dir) : StoreLock.FREE;
        String who = who(ctx.privilege());
        CheckResult.Builder b = CheckResult.builder(ID, "data directory")
                .current(dir + ": " + mount.map(Mount::type).orElse("unknown filesystem") + ", "
                        + (free < 0 ? "free space unknown" : Counts.bytes(free) + " free") + (exists ? "" : ", to be created"))
                .value("directory", dir.toString()).value("exists", exists).value("existingAncestor", existing.toString())
                .value("filesystem", mount.map(Mount::type).orElse(null))
                .value("mountPoint", mount.map(Mount::mountPoint).orElse(null))
                .value("usableBytes", free < 0 ? null : free)
                .value("lockedBy", lock.held() ? lock.owner() : null);
        if (exists && !Files.isDirectory(dir)) {
            return fail(b, dir, "not a directory", dir + " exists but is not a directory: remove it, or choose another"
                    + " with --data-dir.");
        }
        if (!exists && !Files.isDirectory(existing)) {
            return fail(b, dir, "cannot be created", dir + " cannot be created because " + existing + " is a file,"
                    + " not a directory: choose another --data-dir.");
        }
        boolean ownLock = lock.owner().equals(Long.toString(ctx.request().pid()));
        if (lock.held() && !ownLock) {
            String owner = lock.owner().isEmpty() ? "" : " (pid " + lock.owner() + ")";
            return fail(b, dir, lock.owner().isEmpty() ? "locked by another process" : "locked by pid " + lock.owner(),
                    dir + " is in use by another switchboard process" + owner + ": stop it, or give this server its own"
                            + " --data-dir.");
        }
        Optional<CheckResult> unwritable = unwritable(b, dir, existing, mount, ctx.privilege(), who);
        if (unwritable.isPresent()) {
            return unwritable.get();
        }
        warnings(b, dir, existing, mount, free, lock);
        long storeBytes = free < 0 ? STORE_BYTES_WHEN_FREE_UNKNOWN : Math.max(free / STORE_SHARE_OF_FREE, MIN_STORE_BYTES);
        return b.value("defaultMaxStoreBytes", storeBytes)
                .say(exists ? dir + " is writable by " + who + "."
                            : dir + " does not exist yet; the server creates it on start (" + existing + " is writable by "
                                    + who + ").")
                .say(ownLock ? "Its lock is held by process " + lock.owner() + ", the one examined." : "")
                .say("Stored messages may use up to " + Counts.bytes(storeBytes)
                        + (free < 0 ? " (the default when the free space is unknown)" : " (a quarter of the free space)")
                        + " unless --max-store-bytes says otherwise.")
                .build();
    }

    /** The failure when this user could not create or write the directory or its lock file, else empty. */
    private static Optional<CheckResult> unwritable(CheckResult.Builder b, Path dir, Path existing, Optional<Mount> mount,
                                                    Privilege privilege, String who) {
        Path lockFile = dir.resolve(StoreLock.FILE);
        boolean lockDenied = Files.exists(lockFile) && !Files.isWritable(lockFile);
        boolean writable = Files.isWritable(existing) && !lockDenied;
        b.value("writable", writable);
        if (writable) {
            return Optional.empty();
        }
        String what = !existing.equals(dir) ? dir + " cannot be created because " + existing + " is not writable by " + who
                : lockDenied ? lockFile + " is not writable by " + who + " (a server run as another user left it)"
                : dir + " is not writable by " + who;
        String how;
        Optional<Mount> readOnly = mount.filter(Mount::readOnly);
        if (readOnly.isPresent()) {
            how = "it is on the read-only mount " + readOnly.get().mountPoint() + "; choose a --data-dir on a writable filesystem.";
        } else if (privilege.uid() > 0) {
            b.fix(new Fix(Fix.Kind.OTHER, "as root", "mkdir -p " + dir + " && chown -R " + privilege.uid() + " " + dir, null));
            how = "give it to " + who + " as root (the line below), or choose another --data-dir.";
        } else {
            how = "check its permissions and attributes (lsattr), or choose another --data-dir.";
        }
        return Optional.of(fail(b, dir, !existing.equals(dir) ? "cannot be created"
                : lockDenied ? StoreLock.FILE + " not writable" : "not writable", what + ": " + how));
    }

    /** Says what deserves attention in a usable directory. */
    private static void warnings(CheckResult.Builder b, Path dir, Path existing, Optional<Mount> mount, long free,
                                 StoreLock lock) {
        String type = mount.map(Mount::type).orElse("");
        if (MEMORY_FILESYSTEMS.contains(type)) {
            b.atLeast(Status.WARN).say(dir + " is on " + type + ", which lives in memory: stored messages would not"
                    + " survive a reboot; choose a --data-dir on a disk.");
        }
        if (NETWORK_FILESYSTEMS.contains(type)) {
            b.atLeast(Status.WARN).say(dir + " is on " + type + ", a network filesystem whose fsync semantics differ"
                    + " (a message may be acknowledged before it is on disk): choose a --data-dir on a local disk.");
        }
        if (free < 0) {
            b.atLeast(Status.WARN).say("The free space there could not be read: check it with df -h " + existing + ".");
        } else if (free < LOW_SPACE_BYTES) {
            b.atLeast(Status.WARN).say("Only " + Counts.bytes(free) + " is free there (below " + Counts.bytes(LOW_SPACE_BYTES)
                    + "): free some space, or choose a --data-dir on a larger filesystem.");
        }
        if (lock.state() == StoreLock.State.UNKNOWN) {
            b.atLeast(Status.WARN).say("Could not tell whether another process holds " + dir.resolve(StoreLock.FILE)
                    + ": make sure no other server uses this --data-dir.");
        }
    }

    private static CheckResult fail(CheckResult.Builder b, Path dir, String what, String sentence) {
        return b.current(dir + ": " + what).status(Status.FAIL).say(sentence).build();
    }

    /** The directory itself when it exists, else its nearest existing ancestor (a dangling link counts as existing). */
    private static Path nearestExisting(Path dir) {
        Path p = dir;
        while (p.getParent() != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            p = p.getParent();
        }
        return p;
    }

    /** {@code dir} with the links in its existing part resolved, so the mount table sees where it really is. */
    private static Path realPath(Path dir, Path existing) {
        try {
            return existing.toRealPath().resolve(existing.relativize(dir));
        } catch (IOException | RuntimeException e) {
            return dir;
        }
    }

    private static String who(Privilege privilege) {
        return privilege.uid() == 0 ? "root" : privilege.uid() > 0 ? "uid " + privilege.uid() : "this user";
    }

    /** Free bytes for this user on the filesystem of {@code existing}, -1 when unknown. */
    static long usableSpace(Path existing) {
        try {
            return Files.getFileStore(existing).getUsableSpace();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
