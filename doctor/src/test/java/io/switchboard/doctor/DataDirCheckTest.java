package io.switchboard.doctor;

import static io.switchboard.doctor.FixtureTree.GIB;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirCheckTest {
    @TempDir
    Path dir;
    FixtureTree fx;
    Path data;
    long freeBytes = 100 * GIB;

    @BeforeEach
    void setUp() throws IOException {
        fx = new FixtureTree(dir.resolve("root"));
        data = dir.resolve("data");
    }

    private CheckResult check(Path dataDir) {
        return check(new Request(Role.SERVER, 1_000, 0, 1, 1, dataDir));
    }

    private CheckResult check(Request request) {
        SystemFiles files = new SystemFiles(fx.root);
        Context ctx = new Context(files, request, Privilege.detect(files), Optional.empty(), 64 * GIB);
        return new DataDirCheck(p -> freeBytes).run(ctx);
    }

    // ---- usable ----

    @Test
    void shouldBeOkForWritableDirectoryWithPathAndFreeSpace() throws IOException {
        Files.createDirectories(data);
        CheckResult c = check(data);

        assertAll(c.detail(),
                () -> assertEquals(Status.OK, c.status()),
                () -> assertEquals(data + ": ext4, 100 GiB free", c.current()),
                () -> assertEquals(data.toString(), c.values().get("directory")),
                () -> assertEquals(true, c.values().get("exists")),
                () -> assertEquals(true, c.values().get("writable")),
                () -> assertEquals("ext4", c.values().get("filesystem")),
                () -> assertEquals(100 * GIB, c.values().get("usableBytes")),
                () -> assertEquals(25 * GIB, c.values().get("defaultMaxStoreBytes")),
                () -> assertNull(c.values().get("lockedBy")),
                () -> assertNull(c.allows(), "does not cap the count"),
                () -> assertTrue(c.detail().contains("Stored messages may use up to 25 GiB (a quarter of the free space)"
                        + " unless --max-store-bytes says otherwise."), c.detail()),
                () -> assertFalse(Files.exists(data.resolve(StoreLock.FILE)), "never creates the lock file"));
    }

    @Test
    void shouldBeOkWhenMissingDirectoryCanBeCreatedAndNotCreateIt() {
        Path deep = dir.resolve("a/b/data");
        CheckResult c = check(deep);

        assertEquals(Status.OK, c.status(), c.detail());
        assertEquals(false, c.values().get("exists"));
        assertEquals(dir.toString(), c.values().get("existingAncestor"));
        assertTrue(c.current().endsWith(", to be created"), c.current());
        assertTrue(c.detail().contains("the server creates it on start"), c.detail());
        assertFalse(Files.exists(dir.resolve("a")), "only looks");
    }

    @Test
    void shouldResolveRelativeDirectoryAgainstWorkingDirectory() {
        CheckResult c = check(Path.of("data"));
        assertEquals(Path.of("").toAbsolutePath().resolve("data").toString(), c.values().get("directory"));
    }

    // ---- fail ----

    @Test
    void shouldFailWhenDirectoryWouldBeUnderRegularFile() throws IOException {
        Path file = Files.writeString(dir.resolve("file"), "x");
        CheckResult c = check(file.resolve("data"));

        assertEquals(Status.FAIL, c.status());
        assertEquals(file.resolve("data") + ": cannot be created", c.current());
        assertEquals(file.resolve("data") + " cannot be created because " + file + " is a file, not a directory:"
                + " choose another --data-dir.", c.detail());
    }

    @Test
    void shouldFailWhenPathIsRegularFile() throws IOException {
        Path file = Files.writeString(dir.resolve("file"), "x");
        CheckResult c = check(file);
        assertEquals(Status.FAIL, c.status());
        assertTrue(c.detail().contains("is not a directory: remove it, or choose another with --data-dir."), c.detail());
    }

    @Test
    void shouldFailWithChownFixWhenDirectoryIsNotWritable() throws IOException {
        Files.createDirectories(data);
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("r-xr-xr-x"));
        assumeFalse(Files.isWritable(data), "root writes anyway");
        fx.unprivileged();
        CheckResult c = check(data);

        assertEquals(Status.FAIL, c.status());
        assertEquals(data + ": not writable", c.current());
        assertEquals("mkdir -p " + data + " && chown -R 1000 " + data, c.fixes().getFirst().text());
        assertTrue(c.detail().startsWith(data + " is not writable by uid 1000: give it to uid 1000 as root (the line below),"), c.detail());
    }

    @Test
    void shouldFailNamingPidWhenLockIsHeldInThisProcess() throws IOException {
        Files.createDirectories(data);
        try (FileChannel ch = HoldLock.open(data, "12345"); FileLock held = ch.lock()) {
            CheckResult c = check(data);

            assertEquals(Status.FAIL, c.status());
            assertEquals(data + ": locked by pid 12345", c.current());
            assertEquals(data + " is in use by another switchboard process (pid 12345): stop it, or give this server its own"
                    + " --data-dir.", c.detail());
            assertEquals("12345", c.values().get("lockedBy"));
        }
        assertEquals("12345\n", Files.readString(data.resolve(StoreLock.FILE)), "the probe never writes the file");
    }

    @Test
    void shouldFailNamingPidWhenAnotherProcessHoldsTheLock() throws Exception {
        Files.createDirectories(data);
        Process holder = HoldLock.start(data);
        try {
            CheckResult c = check(data);

            assertEquals(Status.FAIL, c.status(), c.detail());
            assertTrue(c.detail().contains("(pid " + holder.pid() + "): stop it, or give this server its own --data-dir."),
                    c.detail());
        } finally {
            holder.destroyForcibly().waitFor();
        }
        assertEquals(Status.OK, check(data).status(), "a lock file left by a dead process is free");
    }

    @Test
    void shouldAcceptLockHeldByTheExaminedProcess() throws IOException {
        Files.createDirectories(data);
        try (FileChannel ch = HoldLock.open(data, "4242"); FileLock held = ch.lock()) {
            CheckResult c = check(new Request(Role.SERVER, 1_000, 4242, 1, 1, data));

            assertEquals(Status.OK, c.status(), c.detail());
            assertTrue(c.detail().contains("Its lock is held by process 4242, the one examined."), c.detail());
        }
    }

    // ---- warn ----

    @Test
    void shouldWarnOnTmpfs() throws IOException {
        Files.createDirectories(data);
        fx.mount(dir.toRealPath().toString(), "tmpfs", "rw,nosuid,nodev");
        CheckResult c = check(data);

        assertEquals(Status.WARN, c.status());
        assertEquals(data + ": tmpfs, 100 GiB free", c.current());
        assertTrue(c.detail().startsWith(data + " is on tmpfs, which lives in memory: stored messages would not survive a"
                + " reboot; choose a --data-dir on a disk."), c.detail());
    }

    @Test
    void shouldWarnOnNetworkFilesystem() throws IOException {
        fx.mount(dir.toRealPath().toString(), "nfs4", "rw,relatime,vers=4.2");
        CheckResult c = check(data);

        assertEquals(Status.WARN, c.status());
        assertTrue(c.detail().contains("is on nfs4, a network filesystem whose fsync semantics differ"), c.detail());
    }

    @Test
    void shouldWarnWhenFreeSpaceIsBelowOneGib() {
        freeBytes = 512L << 20;
        CheckResult c = check(data);

        assertEquals(Status.WARN, c.status());
        assertTrue(c.detail().startsWith("Only 512 MiB is free there (below 1 GiB): free some space, or choose a --data-dir"
                + " on a larger filesystem."), c.detail());
        assertEquals(128L << 20, c.values().get("defaultMaxStoreBytes"));
    }

    @Test
    void shouldWarnWhenFreeSpaceIsUnknown() {
        freeBytes = -1;
        CheckResult c = check(data);

        assertEquals(Status.WARN, c.status());
        assertTrue(c.current().endsWith("free space unknown, to be created"), c.current());
        assertNull(c.values().get("usableBytes"));
        assertEquals(GIB, c.values().get("defaultMaxStoreBytes"));
    }

    @Test
    void shouldSayUnknownFilesystemWithoutMountTable() {
        fx.delete(Mount.MOUNTS);
        CheckResult c = check(data);

        assertEquals(Status.OK, c.status(), c.detail());
        assertTrue(c.current().startsWith(data + ": unknown filesystem, "), c.current());
        assertNull(c.values().get("filesystem"));
    }

    // ---- mount table ----

    @Test
    void shouldPickLongestMountPointThatIsAWholePathPrefix() {
        fx.mount("/srv", "xfs", "rw").mount("/srv/data", "nfs4", "rw").mount("/srv/data old", "tmpfs", "ro");
        SystemFiles files = new SystemFiles(fx.root);

        assertAll(
                () -> assertEquals("nfs4", Mount.holding(files, Path.of("/srv/data/x")).orElseThrow().type()),
                () -> assertEquals("xfs", Mount.holding(files, Path.of("/srv/database")).orElseThrow().type()),
                () -> assertEquals("ext4", Mount.holding(files, Path.of("/var/lib")).orElseThrow().type()),
                () -> assertEquals(new Mount("/srv/data old", "tmpfs", true),
                        Mount.holding(files, Path.of("/srv/data old/x")).orElseThrow()));
    }

    // ---- through the doctor ----

    @Test
    void shouldRunForServerWithDataDirOnly() {
        Doctor doctor = new Doctor(fx.root, 64 * GIB);
        List<String> server = ids(doctor.examine(new Request(Role.SERVER, 1_000, 0, 1, 1, data)));
        List<String> startup = ids(doctor.examine(new Request(Role.SERVER, 1_000, 0, 1, 1)));
        List<String> proxy = ids(doctor.examine(new Request(Role.PROXY, 1_000, 0, 1, 1, data)));

        assertTrue(server.contains(DataDirCheck.ID), server.toString());
        assertFalse(startup.contains(DataDirCheck.ID), "the startup warning runs inside the server that holds the lock");
        assertFalse(proxy.contains(DataDirCheck.ID), proxy.toString());
    }

    @Test
    void shouldReadRealFreeSpaceAndFailTheReport() throws IOException {
        Doctor doctor = new Doctor(fx.root, 64 * GIB);
        CheckResult ok = doctor.examine(new Request(Role.SERVER, 1_000, 0, 1, 1, data)).checks().getLast();
        Path file = Files.writeString(dir.resolve("file"), "x");
        Report failed = doctor.examine(new Request(Role.SERVER, 1_000, 0, 1, 1, file.resolve("data")));

        assertEquals(Files.getFileStore(dir).getUsableSpace(), (long) ok.values().get("usableBytes"), 64L << 20);
        assertFalse(failed.reachable());
        assertEquals("This process would not start here: data directory (" + file.resolve("data") + ": cannot be created).",
                failed.headline());
    }

    private static List<String> ids(Report report) {
        return report.checks().stream().map(CheckResult::id).toList();
    }

    /** Another JVM that holds a data directory's lock as a running server does: locked, its pid inside. */
    static final class HoldLock {
        private HoldLock() {
        }

        /** Starts the holder and returns once it holds the lock of {@code dataDir}. */
        static Process start(Path dataDir) throws IOException {
            Path classes;
            try {
                classes = Path.of(HoldLock.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            } catch (java.net.URISyntaxException e) {
                throw new IOException(e);
            }
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", classes.toString(), HoldLock.class.getName(), dataDir.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            if (!"locked".equals(line)) {
                p.destroyForcibly();
                throw new IOException("the lock holder did not start: " + line);
            }
            return p;
        }

        /** Opens (creating) the lock file in {@code dataDir} with {@code pid} written in it, as the server does. */
        static FileChannel open(Path dataDir, String pid) throws IOException {
            FileChannel ch = FileChannel.open(dataDir.resolve(StoreLock.FILE), StandardOpenOption.CREATE,
                    StandardOpenOption.READ, StandardOpenOption.WRITE);
            ch.write(ByteBuffer.wrap((pid + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            return ch;
        }

        /** Holds the lock of the data directory {@code args[0]}; says "locked" once it does. */
        public static void main(String[] args) throws Exception {
            try (FileChannel ch = open(Path.of(args[0]), Long.toString(ProcessHandle.current().pid()));
                 FileLock held = ch.lock()) {
                System.out.println("locked");
                System.out.flush();
                // Hold until the test ends the process (or 60 s, should it not).
                Thread.sleep(60_000);
            }
        }
    }
}
