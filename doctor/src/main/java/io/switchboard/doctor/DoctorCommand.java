package io.switchboard.doctor;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code switchboard doctor}: finds every limit that caps connections for a role and prints the
 * exact fix. Exit 0 when the target is reachable, 1 when not, 2 on a usage error. One instance
 * per invocation, used by one thread.
 */
@Command(name = "doctor",
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
                "Finds every limit that caps connections here and prints the exact fix.",
                "Checks the open-file limits, fs.nr_open, fs.file-max, epoll watches, local ports and tcp_tw_reuse"
                        + " (proxy, client), accept backlogs (server, proxy), conntrack, TCP buffer memory,"
                        + " memory and cgroup limit, JVM heap, kernel features and the data directory (server).",
                "Nothing is changed: --write-sysctl only writes a file for you to review and apply."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:the target is reachable",
                "1:a limit caps connections below the target, the server would not start (its data directory),"
                        + " or a limit could not be checked (its value unreadable)",
                "2:usage error"})
public final class DoctorCommand implements Callable<Integer> {
    /** The server's default {@code --data-dir}. */
    static final String DEFAULT_DATA_DIR = "data";

    @Spec
    CommandSpec spec;

    @Option(names = "--target", paramLabel = "N", defaultValue = "1000000", converter = CountConverter.class,
            description = "Connections the process should hold (accepts 1_000_000, 50k, 1m). Default: ${DEFAULT-VALUE}.")
    long target;

    @Option(names = "--role", paramLabel = "ROLE", defaultValue = "server", converter = RoleConverter.class,
            description = "server, proxy (2 sockets per connection) or client (the load generator; also 'bench')."
                    + " Default: ${DEFAULT-VALUE}.")
    Role role;

    @Option(names = "--pid", paramLabel = "PID",
            description = "Examine this running process instead of this one (its limits, cgroup and -Xmx)."
                    + " Default: this process, i.e. what Switchboard started from this shell would get.")
    Long pid;

    @Option(names = "--sources", paramLabel = "N", defaultValue = "1",
            description = "Source addresses the proxy or client spreads its connections over. Default: ${DEFAULT-VALUE}.")
    int sources;

    @Option(names = "--destinations", paramLabel = "N", defaultValue = "1",
            description = "Destination address:port pairs the proxy or client connects to. Default: ${DEFAULT-VALUE}.")
    int destinations;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = DEFAULT_DATA_DIR,
            description = "The server's --data-dir, relative to the working directory as for the server: checked for"
                    + " role server (writable, not locked by another server, filesystem, free space)."
                    + " Default: ${DEFAULT-VALUE}; with --pid, that process's own (its --data-dir, in its working"
                    + " directory).")
    Path dataDir;

    @Option(names = "--json", description = "Print JSON (shape in docs/doctor.md) instead of the table. Default: off.")
    boolean json;

    @Option(names = "--write-sysctl", paramLabel = "FILE",
            description = "Also write every sysctl change to FILE, ready for /etc/sysctl.d/; never applies it. Default: none.")
    Path writeSysctl;

    @Option(names = "--root", paramLabel = "DIR", defaultValue = "/", hidden = true,
            description = "Directory standing for / when reading /proc and /sys (for tests). Default: ${DEFAULT-VALUE}.")
    Path root;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    private final LongSupplier jvmMaxHeapBytes;

    /** The command as the launcher runs it: heap from this JVM. */
    public DoctorCommand() {
        this(() -> Runtime.getRuntime().maxMemory());
    }

    DoctorCommand(LongSupplier jvmMaxHeapBytes) {
        this.jvmMaxHeapBytes = jvmMaxHeapBytes;
    }

    @Override
    public Integer call() {
        validate();
        Path dir = dataDir;
        if (pid != null && !spec.commandLine().getParseResult().hasMatchedOption("--data-dir")) {
            // The examined server's own directory: its --data-dir, against its working directory, not this one's.
            java.util.Optional<Path> own = DataDirCheck.ofProcess(new SystemFiles(root), pid);
            if (own.isPresent()) {
                dir = own.get();
            } else {
                spec.commandLine().getErr().println("switchboard doctor: cannot read process " + pid + "'s command line"
                        + " or working directory (another user's? run as it or as root): checking " + dataDir
                        + " here instead; name its directory with --data-dir");
            }
        }
        Report report = new Doctor(root, jvmMaxHeapBytes.getAsLong())
                .examine(new Request(role, target, pid == null ? 0 : pid, sources, destinations,
                        role == Role.SERVER ? dir : null));
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JsonReport.render(report));
        } else {
            TextReport.render(report, out);
        }
        if (writeSysctl != null) {
            try {
                Files.writeString(writeSysctl, SysctlFile.render(report, commandLine()), StandardCharsets.UTF_8);
            } catch (IOException | RuntimeException e) {
                spec.commandLine().getErr().println("switchboard doctor: cannot write " + writeSysctl + ": " + e.getMessage());
                return 2;
            }
            // Keep stdout pure JSON when --json is on.
            PrintWriter note = json ? spec.commandLine().getErr() : out;
            note.println((json ? "" : "\n") + "Wrote " + writeSysctl + " (not applied). Apply as root: cp " + writeSysctl + " "
                    + Fix.SYSCTL_FILE + " && sysctl -p " + Fix.SYSCTL_FILE);
            note.flush();
        }
        out.flush();
        return report.reachable() ? 0 : 1;
    }

    private void validate() {
        if (sources < 1) {
            throw new ParameterException(spec.commandLine(), "--sources must be at least 1, was " + sources);
        }
        if (destinations < 1) {
            throw new ParameterException(spec.commandLine(), "--destinations must be at least 1, was " + destinations);
        }
        if (!Files.isDirectory(root)) {
            throw new ParameterException(spec.commandLine(), "--root " + root + " is not a directory");
        }
        if (pid != null) {
            if (pid < 1) {
                throw new ParameterException(spec.commandLine(), "--pid must be a positive process id, was " + pid);
            }
            if (!Files.isDirectory(new SystemFiles(root).resolve("/proc/" + pid))) {
                throw new ParameterException(spec.commandLine(), "no process with pid " + pid + " (/proc/" + pid + " not found)");
            }
        }
        if (writeSysctl != null) {
            Path parent = writeSysctl.toAbsolutePath().getParent();
            if (parent == null || !Files.isDirectory(parent)) {
                throw new ParameterException(spec.commandLine(), "--write-sysctl " + writeSysctl + ": directory "
                        + parent + " does not exist");
            }
            if (Files.isDirectory(writeSysctl)) {
                throw new ParameterException(spec.commandLine(), "--write-sysctl " + writeSysctl + " is a directory; give a file name");
            }
        }
    }

    /** The command that reproduces this report, for the sysctl file's header. */
    private String commandLine() {
        List<String> parts = new ArrayList<>(List.of("switchboard", "doctor", "--role", role.cliName(), "--target", Long.toString(target)));
        Optional.ofNullable(pid).ifPresent(p -> parts.addAll(List.of("--pid", p.toString())));
        if (sources != 1) {
            parts.addAll(List.of("--sources", Integer.toString(sources)));
        }
        if (destinations != 1) {
            parts.addAll(List.of("--destinations", Integer.toString(destinations)));
        }
        if (role == Role.SERVER && !dataDir.toString().equals(DEFAULT_DATA_DIR)) {
            parts.addAll(List.of("--data-dir", dataDir.toString()));
        }
        return String.join(" ", parts);
    }

    /** Accepts server, proxy, client or bench in any case, with a one-line error otherwise. */
    static final class RoleConverter implements ITypeConverter<Role> {
        @Override
        public Role convert(String value) {
            return Role.parse(value).orElseThrow(() ->
                    new TypeConversionException("'" + value + "' is not a role; use server, proxy or client"));
        }
    }
}
