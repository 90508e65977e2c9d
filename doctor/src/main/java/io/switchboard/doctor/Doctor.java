package io.switchboard.doctor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs every check that caps connections for a role and builds the {@link Report}. Instances are
 * immutable and may be shared; {@link #startupWarning} is the cheap entry point for the
 * {@code server}, {@code proxy} and {@code bench} commands and never throws.
 */
public final class Doctor {
    private static final List<Check> CHECKS = List.of(
            new OpenFilesCheck(),
            new NrOpenCheck(),
            new FileMaxCheck(),
            new EpollWatchesCheck(),
            new LocalPortsCheck(),
            new TimeWaitReuseCheck(),
            AcceptBacklogCheck.somaxconn(),
            AcceptBacklogCheck.synBacklog(),
            new ConntrackCheck(),
            new TcpMemoryCheck(),
            new MemoryCheck(),
            new HeapCheck(),
            new KernelCheck(),
            new DataDirCheck());

    private final SystemFiles files;
    private final long jvmMaxHeapBytes;

    /**
     * @param root directory standing for {@code /} (tests pass a fixture tree)
     * @param jvmMaxHeapBytes the examining JVM's maximum heap, normally {@code Runtime.maxMemory()}
     */
    Doctor(Path root, long jvmMaxHeapBytes) {
        this.files = new SystemFiles(root);
        this.jvmMaxHeapBytes = jvmMaxHeapBytes;
    }

    Report examine(Request request) {
        Privilege privilege = Privilege.detect(files);
        Context ctx = new Context(files, request, privilege, KernelVersion.read(files), jvmMaxHeapBytes);
        List<CheckResult> results = new ArrayList<>();
        for (Check check : CHECKS) {
            if (check.appliesTo(request)) {
                results.add(runSafely(check, ctx));
            }
        }
        return new Report(request, results, privilege);
    }

    private static CheckResult runSafely(Check check, Context ctx) {
        try {
            return check.run(ctx);
        } catch (RuntimeException e) {
            // A surprise in one file must not hide the other limits.
            return CheckResult.builder(check.getClass().getSimpleName(), check.getClass().getSimpleName())
                    .current("unknown (error)").status(Status.WARN)
                    .say("Could not be checked: " + e).build();
        }
    }

    /**
     * The doctor's headline for this process when a limit caps it below {@code target}, with a
     * pointer to the command that prints the fixes; empty when the target fits or on any error.
     *
     * @param role {@code server}, {@code proxy}, {@code client} or {@code bench}
     */
    public static Optional<String> startupWarning(String role, long target) {
        return startupWarning(role, target, 1, 1);
    }

    /** As {@link #startupWarning(String, long)}, for outbound roles spreading over source and destination addresses. */
    public static Optional<String> startupWarning(String role, long target, int sources, int destinations) {
        return startupWarning(Path.of("/"), Runtime.getRuntime().maxMemory(), role, target, sources, destinations);
    }

    static Optional<String> startupWarning(Path root, long jvmMaxHeapBytes, String role, long target, int sources,
                                           int destinations) {
        try {
            Optional<Role> r = Role.parse(role);
            if (r.isEmpty() || target < 1 || sources < 1 || destinations < 1) {
                return Optional.empty();
            }
            Report report = new Doctor(root, jvmMaxHeapBytes).examine(new Request(r.get(), target, 0, sources, destinations));
            if (report.noKnownLimit()) { // a value that cannot be read is no reason to warn at every start
                return Optional.empty();
            }
            StringBuilder command = new StringBuilder("switchboard doctor --role ").append(r.get().cliName())
                    .append(" --target ").append(target);
            if (r.get().opensOutbound() && sources != 1) {
                command.append(" --sources ").append(sources);
            }
            if (r.get().opensOutbound() && destinations != 1) {
                command.append(" --destinations ").append(destinations);
            }
            return Optional.of(report.headline() + " Asked for " + Counts.count(target) + "; run `" + command + "` for the fixes.");
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
