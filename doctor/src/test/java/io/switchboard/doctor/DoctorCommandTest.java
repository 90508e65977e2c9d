package io.switchboard.doctor;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DoctorCommandTest {
    @TempDir
    Path dir;
    FixtureTree fx;
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    @BeforeEach
    void setUp() {
        fx = new FixtureTree(dir.resolve("root"));
    }

    private int run(String... args) {
        CommandLine cl = new CommandLine(new DoctorCommand(() -> 64 * FixtureTree.GIB));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(List.of("--root", fx.root.toString()));
        if (!List.of(args).contains("--data-dir")) {
            // Not the working directory's "data": every run looks at a directory of its own.
            all.addAll(List.of("--data-dir", dir.resolve("data").toString()));
        }
        all.addAll(List.of(args));
        return cl.execute(all.toArray(String[]::new));
    }

    @Test
    void shouldExitOneAndNameOpenFileCapFirstWhenTargetUnreachable() {
        fx.limits("self", 20_000, 20_000);
        int code = run("--target", "1000000");
        String[] lines = out.toString().split("\n");

        assertEquals(1, code, err.toString());
        assertTrue(lines[0].contains("the first limit is open files per process (soft 20,000, hard 20,000)"), lines[0]);
        assertTrue(out.toString().contains("LimitNOFILE=" + (1_000_000 + ConnectionCost.RESERVED_FDS)), out.toString());
    }

    @Test
    void withPidTheDataDirectoryIsTheProcesssOwnInItsWorkingDirectory() throws Exception {
        Path serverCwd = Files.createDirectories(dir.resolve("srv"));
        Files.createDirectories(serverCwd.resolve("store"));
        fx.limits("90", 100_000, 100_000)
                .write("/proc/90/cmdline", "java\0-jar\0switchboard.jar\0server\0--data-dir\0store\0");
        Files.createSymbolicLink(fx.root.resolve("proc/90/cwd"), serverCwd);
        CommandLine cl = new CommandLine(new DoctorCommand(() -> 64 * FixtureTree.GIB));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.execute("--root", fx.root.toString(), "--pid", "90", "--target", "1000", "--json");
        JsonNode report = new ObjectMapper().readTree(out.toString());
        JsonNode dataDir = null;
        for (JsonNode c : report.get("checks")) {
            if (c.get("id").asText().equals(DataDirCheck.ID)) {
                dataDir = c;
            }
        }
        assertTrue(dataDir != null, out.toString());
        assertEquals(serverCwd.resolve("store").toString(), dataDir.get("values").get("directory").asText(),
                "the server's --data-dir in its own working directory, not the doctor's");
    }

    @Test
    void shouldExitZeroWhenTargetReachable() {
        fx.limits("self", 20_000, 20_000);
        assertEquals(0, run("--target", "1000"), out + err.toString());
        assertTrue(out.toString().contains("reachable."));
    }

    @Test
    void shouldAlignTableColumns() {
        fx.limits("self", 20_000, 20_000);
        run("--target", "1m", "--role", "proxy");
        List<String> table = out.toString().lines().dropWhile(l -> !l.startsWith("CHECK")).takeWhile(l -> !l.isBlank()).toList();
        int currentColumn = table.getFirst().indexOf("CURRENT");
        int statusColumn = table.getFirst().indexOf("STATUS");
        int allowsEnd = table.getFirst().indexOf("ALLOWS") + "ALLOWS".length();

        assertTrue(table.size() > 10, "one row per check: " + table);
        for (String row : table.subList(1, table.size())) {
            assertAll(row,
                    () -> assertEquals(' ', row.charAt(currentColumn - 1), "CURRENT starts in one column: " + row),
                    () -> assertTrue(row.substring(statusColumn).matches("(ok|warn|limit).*"), row),
                    () -> assertFalse(Character.isWhitespace(row.charAt(allowsEnd - 1)), "ALLOWS is right-aligned: " + row));
        }
    }

    @Test
    void shouldPrintJsonInDocumentedShape() throws Exception {
        fx.limits("self", 20_000, 20_000);
        int code = run("--target", "1000000", "--json");
        JsonNode json = new ObjectMapper().readTree(out.toString());

        assertEquals(1, code);
        Set<String> top = new TreeSet<>();
        json.fieldNames().forEachRemaining(top::add);
        assertEquals(new TreeSet<>(List.of("formatVersion", "role", "target", "pid", "sources", "destinations", "dataDir", "reachable",
                "maxConnections", "firstLimit", "headline", "privilege", "checks")), top);
        assertEquals(JsonReport.FORMAT_VERSION, json.get("formatVersion").asInt());
        assertEquals("server", json.get("role").asText());
        assertEquals(1_000_000, json.get("target").asLong());
        assertTrue(json.get("pid").isNull());
        assertFalse(json.get("reachable").asBoolean());
        assertEquals("open-files", json.get("firstLimit").asText());
        assertEquals(20_000 - ConnectionCost.RESERVED_FDS, json.get("maxConnections").asLong());
        Set<String> checkFields = Set.of("id", "name", "status", "current", "allows", "values", "detail", "cannotRaise", "fixes");
        for (JsonNode check : json.get("checks")) {
            Set<String> fields = new TreeSet<>();
            check.fieldNames().forEachRemaining(fields::add);
            assertEquals(new TreeSet<>(checkFields), fields, check.toString());
            assertTrue(Set.of("ok", "warn", "limit", "fail").contains(check.get("status").asText()));
            for (JsonNode fix : check.get("fixes")) {
                assertTrue(fix.has("kind") && fix.has("where") && fix.has("text") && fix.has("apply"), fix.toString());
            }
        }
        JsonNode files = json.get("checks").get(0);
        assertEquals(20_000, files.get("values").get("hard").asLong());
        assertTrue(files.get("fixes").findValuesAsText("kind").contains("systemd"));
    }

    @Test
    void shouldAcceptDataDirAndShowItInJsonForServer() throws Exception {
        Path data = dir.resolve("store");
        int code = run("--target", "1000", "--json", "--data-dir", data.toString());
        JsonNode json = new ObjectMapper().readTree(out.toString());
        JsonNode check = null;
        for (JsonNode c : json.get("checks")) {
            if (c.get("id").asText().equals(DataDirCheck.ID)) {
                check = c;
            }
        }

        assertEquals(0, code, err.toString());
        assertEquals(data.toString(), json.get("dataDir").asText());
        assertEquals(data.toString(), check.get("values").get("directory").asText());
        assertTrue(check.get("values").get("usableBytes").asLong() > 0, check.toString());
        assertTrue(check.get("detail").asText().contains("unless --max-store-bytes says otherwise"), check.toString());
    }

    @Test
    void shouldLeaveDataDirOutForOtherRoles() throws Exception {
        run("--role", "proxy", "--target", "1000", "--json");
        JsonNode json = new ObjectMapper().readTree(out.toString());

        assertTrue(json.get("dataDir").isNull());
        assertFalse(json.get("checks").findValuesAsText("id").contains(DataDirCheck.ID));
    }

    @Test
    void shouldExitOneAndSayServerWouldNotStartWhenDataDirCannotBeCreated() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "x");
        Path data = file.resolve("data");
        int code = run("--target", "1000", "--data-dir", data.toString());

        assertEquals(1, code, err.toString());
        assertTrue(out.toString().startsWith("This process would not start here: data directory (" + data
                + ": cannot be created)."), out.toString());
        assertTrue(out.toString().contains("\n[fail] data directory: " + data + ": cannot be created\n"), out.toString());
    }

    @Test
    void shouldWriteSysctlFileWithoutApplyingIt() throws Exception {
        fx.limits("self", 1_048_576, 1_048_576).sysctl("fs.nr_open", 1_048_576).sysctl("net.core.somaxconn", 128);
        Path file = dir.resolve("99-switchboard.conf");
        int code = run("--target", "2000000", "--write-sysctl", file.toString());
        String written = Files.readString(file);
        long needed = 2_000_000 + ConnectionCost.RESERVED_FDS;

        assertEquals(1, code);
        assertEquals(1, written.lines().filter(l -> l.startsWith("fs.nr_open")).count(), "one line per setting: " + written);
        assertTrue(written.contains("\nfs.nr_open = " + needed + "\n"), written);
        assertTrue(written.contains("\nnet.core.somaxconn = 65535\n"), written);
        assertEquals("1048576\n", Files.readString(fx.root.resolve("proc/sys/fs/nr_open")), "never applied");
        assertTrue(out.toString().contains("Wrote " + file + " (not applied)"));
    }

    @Test
    void shouldKeepJsonOnStdoutWhenWritingSysctlFile() throws Exception {
        Path file = dir.resolve("s.conf");
        run("--target", "1000", "--json", "--write-sysctl", file.toString());
        new ObjectMapper().readTree(out.toString());
        assertTrue(err.toString().contains("Wrote " + file));
        assertTrue(Files.readString(file).contains("Nothing to change"));
    }

    @Test
    void shouldAcceptSuffixedAndGroupedTargets() throws Exception {
        run("--target", "50k", "--json");
        assertEquals(50_000, new ObjectMapper().readTree(out.toString()).get("target").asLong());
        out.getBuffer().setLength(0);
        run("--target", "1_000_000", "--json");
        assertEquals(1_000_000, new ObjectMapper().readTree(out.toString()).get("target").asLong());
    }

    @Test
    void shouldCountSourcesForProxy() throws Exception {
        run("--role", "proxy", "--sources", "4", "--target", "100000", "--json");
        JsonNode json = new ObjectMapper().readTree(out.toString());
        JsonNode ports = null;
        for (JsonNode c : json.get("checks")) {
            if (c.get("id").asText().equals(LocalPortsCheck.ID)) {
                ports = c;
            }
        }
        assertEquals(4 * (60_999 - 32_768 + 1), ports.get("allows").asLong());
        assertEquals(4, json.get("sources").asInt());
    }

    @Test
    void shouldExitTwoWithOneLineOnBadInput() {
        List<String[]> bad = List.of(
                new String[] {"--role", "router"},
                new String[] {"--target", "lots"},
                new String[] {"--target", "0"},
                new String[] {"--sources", "0"},
                new String[] {"--destinations", "-3"},
                new String[] {"--pid", "999999"},
                new String[] {"--write-sysctl", dir.resolve("no/such/dir/f.conf").toString()},
                new String[] {"--bogus"});
        for (String[] args : bad) {
            err.getBuffer().setLength(0);
            out.getBuffer().setLength(0);
            assertEquals(2, run(args), String.join(" ", args) + " -> " + err);
            assertTrue(out.toString().isEmpty(), "no report on a usage error: " + out);
            assertFalse(err.toString().contains("Exception"), err.toString());
        }
    }

    @Test
    void shouldExplainEveryOptionWithItsDefaultInHelp() {
        assertEquals(0, run("--help"));
        String help = out.toString().replaceAll("\\s+", " ");
        for (String option : List.of("--target", "--role", "--pid", "--sources", "--destinations", "--data-dir", "--json",
                "--write-sysctl")) {
            assertTrue(help.contains(option), option + " missing from help");
        }
        assertFalse(help.contains("--root"), "--root is for tests only");
        assertTrue(help.contains("Default: 1000000") && help.contains("Default: server") && help.contains("Default: data"), help);
        assertTrue(help.contains("Exit codes"), help);
    }
}
