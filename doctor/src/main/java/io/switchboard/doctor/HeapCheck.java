package io.switchboard.doctor;

import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * The JVM's maximum heap against Switchboard's heap per connection. For the examining process
 * the injected {@code Runtime.maxMemory()}; for {@code --pid} the {@code -Xmx} on its command line,
 * or the JVM default as an estimate (a quarter, or -XX:MaxRAMPercentage, of the memory it may use: the machine's, its
 * cgroup's limit, or -XX:MaxRAM, the least). Stateless.
 */
final class HeapCheck implements Check {
    static final String ID = "heap";
    /** HotSpot's default MaxRAMPercentage. */
    static final int DEFAULT_HEAP_PERCENT = 25;

    @Override
    public boolean appliesTo(Role role) {
        return true;
    }

    @Override
    public CheckResult run(Context ctx) {
        CheckResult.Builder b = CheckResult.builder(ID, "JVM maximum heap");
        long heap;
        String source;
        if (ctx.request().pid() == 0) {
            heap = ctx.jvmMaxHeapBytes();
            source = "this JVM; a server started with the same JAVA_OPTS gets the same";
        } else {
            String cmdlinePath = ctx.request().procDir() + "/cmdline";
            List<String> args = ctx.files().read(cmdlinePath).map(t -> List.of(t.split("\u0000"))).orElse(List.of());
            if (args.isEmpty() || args.getFirst().isEmpty()) {
                return b.unknown(ctx.files(), cmdlinePath, Status.WARN).build();
            }
            if (!args.getFirst().endsWith("java")) {
                return b.current("not a JVM").value("jvm", false)
                        .say("Process " + ctx.request().pid() + " runs " + args.getFirst() + ", not java.").build();
            }
            OptionalLong xmx = maxHeapArgument(args);
            if (xmx.isPresent()) {
                heap = xmx.getAsLong();
                source = "-Xmx on the command line of process " + ctx.request().pid();
            } else {
                OptionalLong total = MemoryCheck.memTotal(ctx.files());
                if (total.isEmpty()) {
                    return b.current("unknown (no -Xmx)").status(Status.WARN)
                            .say("Process " + ctx.request().pid() + " sets no -Xmx and /proc/meminfo is missing.").build();
                }
                // The JVM sizes its default heap from the memory it may use: a container's (cgroup) limit when
                // lower than the machine's, or -XX:MaxRAM; a share of it, -XX:MaxRAMPercentage or 25%.
                long memory = total.getAsLong();
                String of = "of memory";
                java.util.Optional<CgroupMemory> cgroup = CgroupMemory.read(ctx.files(), ctx.request().procDir());
                if (cgroup.isPresent() && cgroup.get().limitBytes() < memory) {
                    memory = cgroup.get().limitBytes();
                    of = "of its cgroup's memory limit (" + Counts.bytes(memory) + ", " + cgroup.get().file() + ")";
                }
                OptionalLong maxRam = lastSize(args, "-XX:MaxRAM=");
                if (maxRam.isPresent() && maxRam.getAsLong() < memory) {
                    memory = maxRam.getAsLong();
                    of = "of -XX:MaxRAM (" + Counts.bytes(memory) + ")";
                }
                double percent = lastPercent(args, "-XX:MaxRAMPercentage=").orElse(DEFAULT_HEAP_PERCENT);
                heap = (long) (memory * percent / 100);
                source = "estimated: no -Xmx, so the JVM default of " + formatPercent(percent) + "% " + of;
            }
        }
        long perConnection = ConnectionCost.HEAP_BYTES_PER_CONNECTION;
        long usable = (long) (heap * ConnectionCost.USABLE_HEAP_FRACTION);
        long needed = (long) Math.ceil(Counts.mul(ctx.target(), perConnection) / ConnectionCost.USABLE_HEAP_FRACTION);
        b.current(Counts.bytes(heap)).value("maxHeapBytes", heap).value("bytesPerConnection", perConnection)
                .value("neededBytes", needed).allows(usable / perConnection)
                .say("Source: " + source + ". " + Counts.count(perConnection) + " B per connection; connection state should stay"
                        + " under " + Math.round(ConnectionCost.USABLE_HEAP_FRACTION * 100) + "% of the heap so G1 can collect.");
        if (usable / perConnection >= ctx.target()) {
            return b.build();
        }
        String xmx = "-Xmx" + Counts.sizeArgument(needed, true);
        return b.status(Status.LIMIT)
                .say("Needs " + Counts.bytes(needed) + " of heap for " + Counts.count(ctx.target()) + " connections.")
                .fix(new Fix(Fix.Kind.JVM, "the shell that starts Switchboard (./switchboard passes JAVA_OPTS to the JVM)",
                        "export JAVA_OPTS=\"" + xmx + "\"", null))
                .build();
    }

    /** The last {@code -Xmx} or {@code -XX:MaxHeapSize=} value, as HotSpot applies the last one. */
    static OptionalLong maxHeapArgument(List<String> args) {
        OptionalLong result = OptionalLong.empty();
        for (String a : args) {
            String size = a.startsWith("-Xmx") ? a.substring(4)
                    : a.startsWith("-XX:MaxHeapSize=") ? a.substring("-XX:MaxHeapSize=".length()) : null;
            if (size != null) {
                OptionalLong bytes = parseSize(size);
                if (bytes.isPresent()) {
                    result = bytes;
                }
            }
        }
        return result;
    }

    /** The value of the last {@code prefix<size>} argument. */
    private static OptionalLong lastSize(List<String> args, String prefix) {
        OptionalLong result = OptionalLong.empty();
        for (String a : args) {
            if (a.startsWith(prefix)) {
                OptionalLong bytes = parseSize(a.substring(prefix.length()));
                if (bytes.isPresent()) {
                    result = bytes;
                }
            }
        }
        return result;
    }

    /** The value of the last {@code prefix<percent>} argument, when it is one (0-100). */
    private static java.util.OptionalDouble lastPercent(List<String> args, String prefix) {
        java.util.OptionalDouble result = java.util.OptionalDouble.empty();
        for (String a : args) {
            if (a.startsWith(prefix)) {
                try {
                    double p = Double.parseDouble(a.substring(prefix.length()));
                    if (p > 0 && p <= 100) {
                        result = java.util.OptionalDouble.of(p);
                    }
                } catch (NumberFormatException e) {
                    // not a number: the JVM would not have started with it
                }
            }
        }
        return result;
    }

    private static String formatPercent(double p) {
        return p == Math.rint(p) ? Long.toString((long) p) : Double.toString(p);
    }

    /** {@code 4g}, {@code 512m}, {@code 1024k}, {@code 1073741824}. */
    static OptionalLong parseSize(String text) {
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.isEmpty()) {
            return OptionalLong.empty();
        }
        long unit = switch (s.charAt(s.length() - 1)) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            case 't' -> 1L << 40;
            default -> 1;
        };
        String digits = unit == 1 ? s : s.substring(0, s.length() - 1);
        OptionalLong n = SystemFiles.parseLong(digits);
        return n.isPresent() && n.getAsLong() >= 0 ? OptionalLong.of(Counts.mul(n.getAsLong(), unit)) : OptionalLong.empty();
    }
}
