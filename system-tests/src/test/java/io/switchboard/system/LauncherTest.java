package io.switchboard.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./switchboard} launcher's JVM flags, seen by a stand-in {@code java} that prints its arguments: a copy
 * of the launcher runs in a directory with a prebuilt (empty) jar, so nothing is built.
 */
@Timeout(60)
class LauncherTest {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void shouldExitOnOutOfMemoryUnlessJavaOptsSaysOtherwise() throws Exception {
        List<String> plain = launch("");
        assertTrue(plain.contains("-XX:+ExitOnOutOfMemoryError"), plain.toString());
        assertEquals(List.of("-jar", dir.resolve("dist/target/switchboard.jar").toString(), "server"),
                plain.subList(plain.size() - 3, plain.size()));

        // HotSpot takes the last of two settings of a flag: JAVA_OPTS must come after the launcher's own.
        List<String> overridden = launch("-XX:-ExitOnOutOfMemoryError -Xmx96m");
        int own = overridden.indexOf("-XX:+ExitOnOutOfMemoryError");
        int opts = overridden.indexOf("-XX:-ExitOnOutOfMemoryError");
        assertTrue(own >= 0 && opts > own, overridden.toString());
        assertTrue(overridden.indexOf("-Xmx96m") < overridden.indexOf("-jar"), overridden.toString());
    }

    @Test
    void shouldPickTheLeanCollectorUnlessTheHeapIsLargeOrJavaOptsPicksOne() throws Exception {
        List<String> plain = launch("");
        assertTrue(plain.contains("-XX:+UseSerialGC") && plain.contains("-Xmn8m"), plain.toString());
        assertTrue(!plain.contains("-XX:+UseG1GC"), plain.toString());
        assertTrue(launch("-Xmx1g").contains("-XX:+UseSerialGC"), "a small heap stays lean");
        List<String> large = launch("-Xmx4g");
        assertTrue(large.contains("-XX:+UseG1GC") && !large.contains("-XX:+UseSerialGC")
                && !large.contains("-Xmn8m"), large.toString());
        List<String> zgc = launch("-XX:+UseZGC");
        assertTrue(zgc.contains("-XX:+UseZGC"), zgc.toString());
        assertTrue(!zgc.contains("-XX:+UseG1GC") && !zgc.contains("-XX:+UseSerialGC")
                && !zgc.contains("-XX:MaxGCPauseMillis=50"), "one collector only, or the JVM refuses to start: " + zgc);
    }

    @Test
    void shouldMapAClassArchiveOfItsOwnUnlessJavaOptsNamesOneAndDropAStaleOne() throws Exception {
        String archive = dir.resolve("dist/target/switchboard.jar.server.jsa").toString();
        List<String> plain = launch("");
        assertTrue(plain.contains("-XX:+AutoCreateSharedArchive") && plain.contains("-XX:SharedArchiveFile=" + archive),
                plain.toString());
        assertTrue(plain.indexOf("-XX:SharedArchiveFile=" + archive) < plain.indexOf("-jar"), plain.toString());
        List<String> aot = launch("-XX:AOTCache=/tmp/gateway.aot");
        assertTrue(!aot.contains("-XX:+AutoCreateSharedArchive")
                && aot.stream().noneMatch(a -> a.startsWith("-XX:SharedArchiveFile")), "one archive only: " + aot);
        assertTrue(launch("-Xshare:off").stream().noneMatch(a -> a.startsWith("-XX:SharedArchiveFile")));
        assertTrue(!launch("-XX:StartFlightRecording").contains("-XX:+AutoCreateSharedArchive"),
                "a process writing the archive would run without the recording");

        // The JVM writes a new archive only where there is none: one older than the jar goes first.
        Path stale = Path.of(archive);
        Files.write(stale, new byte[1]);
        Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.fromMillis(0));
        launch("");
        assertTrue(!Files.exists(stale), "the stale archive was removed");
    }

    @Test
    void shouldReadCollectorsAndHeapsFromEveryJvmOptionVariableAndOnlyCollectorsAsCollectors() throws Exception {
        List<String> tuned = launch("-XX:+UseNUMA -XX:+DisableExplicitGC");
        assertTrue(tuned.contains("-XX:+UseSerialGC") && tuned.contains("-Xmn8m"),
                "flags that start with Use and end with GC are no collector: " + tuned);
        List<String> toolZgc = launch("", java.util.Map.of("JAVA_TOOL_OPTIONS", "-XX:+UseZGC"), true);
        assertTrue(!toolZgc.contains("-XX:+UseSerialGC") && !toolZgc.contains("-XX:+UseG1GC"),
                "a collector in JAVA_TOOL_OPTIONS (the JVM reads it too): one collector only, " + toolZgc);
        List<String> maxHeap = launch("-XX:MaxHeapSize=4g");
        assertTrue(maxHeap.contains("-XX:+UseG1GC") && !maxHeap.contains("-Xmn8m"), maxHeap.toString());
        List<String> bytes = launch("-Xmx4294967296");
        assertTrue(bytes.contains("-XX:+UseG1GC"), "a heap given in bytes: " + bytes);
        List<String> inJdkOptions = launch("", java.util.Map.of("JDK_JAVA_OPTIONS", "-Xmx8g"), true);
        assertTrue(inJdkOptions.contains("-XX:+UseG1GC"), "a heap in JDK_JAVA_OPTIONS counts too: " + inJdkOptions);
        // A heap sized from memory: the lesser of the machine's and -XX:MaxRAM, times the percentage.
        List<String> smallShare = launch("", java.util.Map.of("JAVA_TOOL_OPTIONS",
                "-XX:MaxRAM=1g -XX:MaxRAMPercentage=100"), true);
        assertTrue(smallShare.contains("-XX:+UseSerialGC"), "1 GB of heap stays lean: " + smallShare);
        List<String> largeShare = launch("", java.util.Map.of("JAVA_TOOL_OPTIONS",
                "-XX:MaxRAM=64g -XX:MaxRAMPercentage=90"), true);
        long memKb = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(0);
        assertTrue(largeShare.contains("-XX:+UseG1GC") || memKb * 0.9 < (2048L << 10),
                "90% of this machine's memory is a large heap: " + largeShare);
    }

    @Test
    void aJavaRuntimeWithoutJavacRunsABuiltJar() throws Exception {
        List<String> args = launch("", java.util.Map.of(), false);
        assertTrue(args.contains("-jar"), args.toString());
    }

    /** Runs a copy of the launcher with {@code javaOpts}; returns the arguments its {@code java} got. */
    private List<String> launch(String javaOpts) throws IOException, InterruptedException {
        return launch(javaOpts, java.util.Map.of(), true);
    }

    /** As above, with more environment, and a JDK ({@code javac}) or only a runtime. */
    private List<String> launch(String javaOpts, java.util.Map<String, String> env, boolean withJavac)
            throws IOException, InterruptedException {
        Files.createDirectories(dir.resolve("scripts"));
        Files.copy(REPO.resolve("switchboard"), dir.resolve("switchboard"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(REPO.resolve("scripts/jdk.sh"), dir.resolve("scripts/jdk.sh"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.createDirectories(dir.resolve("dist/target"));
        Files.write(dir.resolve("dist/target/switchboard.jar"), new byte[0]);
        Path jdk = dir.resolve("jdk/bin");
        Files.createDirectories(jdk);
        // Answers the launcher's version probe as a JDK 25, and otherwise prints one argument per line.
        executable(jdk.resolve("java"), """
                #!/bin/sh
                if [ "$1" = -XshowSettings:properties ]; then echo '    java.specification.version = 25'; exit 0; fi
                for a in "$@"; do echo "$a"; done
                """);
        if (withJavac) {
            executable(jdk.resolve("javac"), "#!/bin/sh\nexit 0\n");
        } else {
            Files.deleteIfExists(jdk.resolve("javac"));
        }
        ProcessBuilder pb = new ProcessBuilder("bash", dir.resolve("switchboard").toString(), "server")
                .redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", dir.resolve("jdk").toString());
        pb.environment().put("JAVA_OPTS", javaOpts);
        pb.environment().remove("SWITCHBOARD_REBUILD");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("JDK_JAVA_OPTIONS");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the launcher ends");
        assertEquals(0, p.exitValue(), out);
        return out.lines().toList();
    }

    private static void executable(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
