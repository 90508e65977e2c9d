package io.switchboard.doctor;

import static io.switchboard.doctor.FixtureTree.GIB;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DoctorTest {
    private static final long RESERVED = ConnectionCost.RESERVED_FDS;

    @TempDir
    Path dir;
    FixtureTree fx;
    long heapBytes = 64 * GIB;

    @BeforeEach
    void setUp() {
        fx = new FixtureTree(dir);
    }

    private Report examine(Role role, long target) {
        return examine(new Request(role, target, 0, 1, 1));
    }

    private Report examine(Request request) {
        return new Doctor(dir, heapBytes).examine(request);
    }

    private static CheckResult check(Report report, String id) {
        return report.checks().stream().filter(c -> c.id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + id + " in " + ids(report)));
    }

    private static List<String> ids(Report report) {
        return report.checks().stream().map(CheckResult::id).toList();
    }

    private static Optional<Fix> fix(CheckResult c, Fix.Kind kind) {
        return c.fixes().stream().filter(f -> f.kind() == kind).findFirst();
    }

    private static List<String> sysctlLines(CheckResult c) {
        return c.fixes().stream().filter(f -> f.kind() == Fix.Kind.SYSCTL).map(Fix::text).toList();
    }

    // ---- headline and open files ----

    @Test
    void shouldReachTargetOnRoomyHost() {
        Report report = examine(Role.SERVER, 1_000_000);
        assertTrue(report.reachable(), report.headline());
        assertTrue(report.checks().stream().noneMatch(c -> c.status() == Status.LIMIT));
    }

    @Test
    void shouldNameOpenFileLimitFirstWhenTargetExceedsIt() {
        fx.limits("self", 20_000, 20_000);
        Report report = examine(Role.SERVER, 1_000_000);

        CheckResult files = check(report, OpenFilesCheck.ID);
        assertAll(
                () -> assertFalse(report.reachable()),
                () -> assertEquals(OpenFilesCheck.ID, report.firstLimit().orElseThrow().id()),
                () -> assertEquals(20_000 - RESERVED, report.maxConnections().getAsLong()),
                () -> assertEquals(Status.LIMIT, files.status()),
                () -> assertTrue(report.headline().contains("at most " + Counts.count(20_000 - RESERVED) + " connections"),
                        report.headline()),
                () -> assertTrue(report.headline().contains("the first limit is open files per process"), report.headline()),
                () -> assertTrue(report.headline().contains("hard 20,000"), report.headline()));
    }

    @Test
    void shouldAllowTargetBelowOpenFileLimit() {
        fx.limits("self", 20_000, 20_000);
        Report report = examine(Role.SERVER, 1_000);
        assertTrue(report.reachable());
        assertEquals(Status.OK, check(report, OpenFilesCheck.ID).status());
        assertTrue(check(report, OpenFilesCheck.ID).fixes().isEmpty());
    }

    @Test
    void shouldOfferUlimitWhenTargetFitsUnderHardLimit() {
        fx.limits("self", 1_024, 524_288);
        CheckResult files = check(examine(Role.SERVER, 100_000), OpenFilesCheck.ID);

        long needed = 100_000 + RESERVED;
        assertEquals(Status.LIMIT, files.status());
        assertEquals("ulimit -n " + needed, fix(files, Fix.Kind.ULIMIT).orElseThrow().text());
        String limitsConf = fix(files, Fix.Kind.LIMITS_CONF).orElseThrow().text();
        assertTrue(limitsConf.matches("(?s)\\*\\s+soft\\s+nofile\\s+" + needed + ".*"), limitsConf);
        assertFalse(limitsConf.contains("hard"), "the hard limit already allows it: " + limitsConf);
        assertEquals("[Service]\nLimitNOFILE=" + needed + ":524288", fix(files, Fix.Kind.SYSTEMD).orElseThrow().text(),
                "the drop-in must not lower the hard limit");
        assertNull(files.cannotRaise());
    }

    @Test
    void shouldNotOfferUlimitAboveHardLimitWithoutPrivilege() {
        fx.limits("self", 1_024, 4_096).unprivileged();
        CheckResult files = check(examine(Role.SERVER, 100_000), OpenFilesCheck.ID);

        long needed = 100_000 + RESERVED;
        assertTrue(fix(files, Fix.Kind.ULIMIT).isEmpty(), "ulimit cannot go above the hard limit");
        assertTrue(files.cannotRaise().startsWith("Needs root"), files.cannotRaise());
        String limitsConf = fix(files, Fix.Kind.LIMITS_CONF).orElseThrow().text();
        assertTrue(limitsConf.matches("(?s).*\\*\\s+hard\\s+nofile\\s+" + needed + ".*"), limitsConf);
        assertFalse(limitsConf.contains("root"), "a non-root process needs no root lines: " + limitsConf);
        assertEquals("[Service]\nLimitNOFILE=" + needed, fix(files, Fix.Kind.SYSTEMD).orElseThrow().text());
    }

    @Test
    void shouldAddRootLinesToLimitsConfForRootProcess() {
        fx.limits("self", 1_024, 4_096);
        CheckResult files = check(examine(Role.SERVER, 100_000), OpenFilesCheck.ID);
        String limitsConf = fix(files, Fix.Kind.LIMITS_CONF).orElseThrow().text();
        assertTrue(limitsConf.matches("(?s).*root\\s+hard\\s+nofile\\s+" + (100_000 + RESERVED) + ".*"), limitsConf);
        assertEquals("ulimit -n " + (100_000 + RESERVED), fix(files, Fix.Kind.ULIMIT).orElseThrow().text(),
                "root with CAP_SYS_RESOURCE may raise the hard limit from the shell");
    }

    @Test
    void shouldSayHardLimitEqualsNrOpenAndRaiseNrOpenFirst() {
        fx.limits("self", 1_048_576, 1_048_576).sysctl("fs.nr_open", 1_048_576);
        Report report = examine(Role.SERVER, 2_000_000);
        CheckResult files = check(report, OpenFilesCheck.ID);

        long needed = 2_000_000 + RESERVED;
        assertTrue(files.detail().contains("The hard limit equals fs.nr_open"), files.detail());
        assertEquals(Fix.Kind.SYSCTL, files.fixes().getFirst().kind(), "fs.nr_open must rise before the hard limit");
        assertEquals("fs.nr_open = " + needed, files.fixes().getFirst().text());
        assertEquals(Status.LIMIT, check(report, NrOpenCheck.ID).status());
        assertEquals(List.of("fs.nr_open = " + needed), sysctlLines(check(report, NrOpenCheck.ID)));
        assertEquals(OpenFilesCheck.ID, report.firstLimit().orElseThrow().id(), "ties go to the earlier check");
    }

    @Test
    void shouldCountTwoFilesPerProxyConnection() {
        fx.limits("self", 100_000, 100_000);
        CheckResult proxy = check(examine(Role.PROXY, 60_000), OpenFilesCheck.ID);
        CheckResult server = check(examine(Role.SERVER, 60_000), OpenFilesCheck.ID);

        assertEquals((100_000 - RESERVED) / 2, proxy.allows());
        assertEquals(Status.LIMIT, proxy.status());
        assertEquals(100_000 - RESERVED, server.allows());
        assertEquals(Status.OK, server.status());
    }

    @Test
    void shouldSayOpenFileLimitCannotBeRaisedInContainerWithoutCapSysResource() {
        fx.limits("self", 20_000, 20_000).dockerWithoutPrivilege();
        Report report = examine(Role.SERVER, 1_000_000);
        CheckResult files = check(report, OpenFilesCheck.ID);

        long needed = 1_000_000 + RESERVED;
        assertTrue(report.privilege().container());
        assertTrue(files.cannotRaise().startsWith("Cannot be raised from inside"), files.cannotRaise());
        assertTrue(files.cannotRaise().contains("CAP_SYS_RESOURCE"), files.cannotRaise());
        assertEquals("docker run --ulimit nofile=" + needed + ":" + needed + " ...",
                fix(files, Fix.Kind.DOCKER).orElseThrow().text());
        assertTrue(fix(files, Fix.Kind.ULIMIT).isEmpty());
        long processes = Math.ceilDiv(1_000_000, 20_000 - RESERVED);
        assertTrue(fix(files, Fix.Kind.SPLIT).orElseThrow().text().startsWith("run " + processes + " processes"));
    }

    @Test
    void shouldReadLimitsOfTheGivenPid() {
        fx.limits("4242", 4_096, 4_096).status("4242", 1000, "0", "0");
        fx.write("/proc/4242/cmdline", "java\0-Xmx2g\0-jar\0switchboard.jar\0");
        Report report = examine(new Request(Role.SERVER, 10_000, 4242, 1, 1));
        CheckResult files = check(report, OpenFilesCheck.ID);

        assertEquals(4_096 - RESERVED, files.allows());
        assertEquals("prlimit --pid 4242 --nofile=" + (10_000 + RESERVED) + ":" + (10_000 + RESERVED),
                fix(files, Fix.Kind.PRLIMIT).orElseThrow().text());
        assertTrue(report.headline().startsWith("Process 4242 can hold at most"), report.headline());
    }

    @Test
    void shouldTreatUnlimitedOpenFilesAsNoCap() {
        fx.limits("self", Long.MAX_VALUE, Long.MAX_VALUE);
        CheckResult files = check(examine(Role.SERVER, 1_000_000), OpenFilesCheck.ID);
        assertEquals(Status.OK, files.status());
        assertTrue(files.current().contains("unlimited"), files.current());
    }

    // ---- system-wide file and epoll limits ----

    @Test
    void shouldCapBySystemWideFileMaxMinusFilesOpen() {
        fx.sysctl("fs.file-max", 500_000).sysctl("fs.file-nr", "100000\t0\t500000");
        Report report = examine(Role.SERVER, 1_000_000);
        CheckResult fileMax = check(report, FileMaxCheck.ID);

        assertEquals(500_000 - 100_000 - RESERVED, fileMax.allows());
        assertEquals(Status.LIMIT, fileMax.status());
        assertEquals(List.of("fs.file-max = " + (100_000 + 1_000_000 + RESERVED)), sysctlLines(fileMax));
        assertEquals(FileMaxCheck.ID, report.firstLimit().orElseThrow().id());
    }

    @Test
    void shouldCapByEpollWatchesPerUser() {
        fx.sysctl("fs.epoll.max_user_watches", 400_000);
        CheckResult epoll = check(examine(Role.PROXY, 250_000), EpollWatchesCheck.ID);
        assertEquals((400_000 - RESERVED) / 2, epoll.allows());
        assertEquals(Status.LIMIT, epoll.status());
        assertEquals(List.of("fs.epoll.max_user_watches = " + (500_000 + RESERVED)), sysctlLines(epoll));
    }

    // ---- local ports ----

    @Test
    void shouldNotCheckPortsForServer() {
        assertFalse(ids(examine(Role.SERVER, 1_000_000)).contains(LocalPortsCheck.ID));
        assertTrue(ids(examine(Role.CLIENT, 1_000_000)).contains(LocalPortsCheck.ID));
        assertTrue(ids(examine(Role.PROXY, 1_000_000)).contains(LocalPortsCheck.ID));
    }

    @Test
    void shouldCapClientByPortRangeTimesSourcesAndDestinations() {
        long ports = 60_999 - 32_768 + 1;
        CheckResult one = check(examine(new Request(Role.CLIENT, 100_000, 0, 1, 1)), LocalPortsCheck.ID);
        CheckResult many = check(examine(new Request(Role.CLIENT, 100_000, 0, 2, 3)), LocalPortsCheck.ID);

        assertEquals(ports, one.allows());
        assertEquals(Status.LIMIT, one.status());
        assertEquals(ports * 6, many.allows());
        assertEquals(Status.OK, many.status());
    }

    @Test
    void shouldWidenPortRangeWhenThatIsEnough() {
        CheckResult ports = check(examine(Role.CLIENT, 50_000), LocalPortsCheck.ID);
        assertEquals(List.of("net.ipv4.ip_local_port_range = " + (65_536 - 50_000) + " 65535"), sysctlLines(ports));
    }

    @Test
    void shouldAskForMoreSourceAddressesWhenWidestRangeIsNotEnough() {
        CheckResult ports = check(examine(new Request(Role.PROXY, 1_000_000, 0, 4, 1)), LocalPortsCheck.ID);
        long widest = 65_535 - 1_024 + 1;
        long wantSources = Math.ceilDiv(1_000_000, widest);

        assertEquals(Status.LIMIT, ports.status());
        assertEquals(List.of("net.ipv4.ip_local_port_range = 1024 65535"), sysctlLines(ports));
        assertTrue(fix(ports, Fix.Kind.OTHER).orElseThrow().text().contains("--sources " + wantSources),
                ports.fixes().toString());
    }

    @Test
    void shouldShareOnePortPoolPerSourceWithoutBindAddressNoPort() {
        fx.sysctl("kernel.osrelease", "4.1.52");
        long ports = 60_999 - 32_768 + 1;
        CheckResult c = check(examine(new Request(Role.CLIENT, 1_000_000, 0, 2, 3)), LocalPortsCheck.ID);
        assertEquals(ports * 2, c.allows(), "destinations do not multiply a shared pool");
        assertEquals(Boolean.TRUE, c.values().get("sharedPortPool"));
    }

    @Test
    void shouldSubtractReservedPortsInRange() {
        fx.sysctl("net.ipv4.ip_local_reserved_ports", "8080,40000-40099,61000-61010");
        CheckResult c = check(examine(Role.CLIENT, 1_000), LocalPortsCheck.ID);
        assertEquals(60_999 - 32_768 + 1 - 100, c.allows());
        assertEquals(100L, c.values().get("reservedInRange"));
    }

    @Test
    void shouldWarnWhenTimeWaitReuseIsOff() {
        fx.sysctl("net.ipv4.tcp_tw_reuse", 0);
        CheckResult off = check(examine(Role.CLIENT, 1_000), TimeWaitReuseCheck.ID);
        assertEquals(Status.WARN, off.status());
        assertNull(off.allows(), "TIME_WAIT reuse does not cap held connections");
        assertEquals(List.of("net.ipv4.tcp_tw_reuse = 1"), sysctlLines(off));

        fx.sysctl("net.ipv4.tcp_tw_reuse", 1);
        assertEquals(Status.OK, check(examine(Role.CLIENT, 1_000), TimeWaitReuseCheck.ID).status());
    }

    // ---- accept backlog ----

    @Test
    void shouldWarnWhenSomaxconnIsBelowRecommendedBacklog() {
        fx.sysctl("net.core.somaxconn", 128);
        Report report = examine(Role.SERVER, 1_000_000);
        CheckResult somaxconn = check(report, "somaxconn");

        assertEquals(Status.WARN, somaxconn.status());
        assertNull(somaxconn.allows(), "a backlog caps bursts, not held connections");
        assertTrue(report.reachable(), "a warning does not make the target unreachable");
        assertEquals(List.of("net.core.somaxconn = " + AcceptBacklogCheck.recommended(1_000_000)), sysctlLines(somaxconn));
    }

    @Test
    void shouldAcceptSmallSomaxconnForSmallTargets() {
        fx.sysctl("net.core.somaxconn", 128);
        assertEquals(Status.OK, check(examine(Role.SERVER, 100), "somaxconn").status());
    }

    @Test
    void shouldReportListenOverflows() {
        fx.write("/proc/self/net/netstat", "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 17 17\n");
        CheckResult somaxconn = check(examine(Role.SERVER, 1_000), "somaxconn");
        assertEquals(17L, somaxconn.values().get("listenOverflows"));
        assertTrue(somaxconn.detail().contains("overflowed 17 times"), somaxconn.detail());
    }

    @Test
    void shouldWarnAboutSynBacklogOnlyWithoutSyncookies() {
        fx.sysctl("net.ipv4.tcp_max_syn_backlog", 256);
        assertEquals(Status.OK, check(examine(Role.SERVER, 1_000_000), "syn-backlog").status());
        fx.sysctl("net.ipv4.tcp_syncookies", 0);
        assertEquals(Status.WARN, check(examine(Role.SERVER, 1_000_000), "syn-backlog").status());
    }

    @Test
    void shouldNotCheckBacklogForClient() {
        List<String> ids = ids(examine(Role.CLIENT, 1_000));
        assertFalse(ids.contains("somaxconn"));
        assertFalse(ids.contains("syn-backlog"));
    }

    // ---- conntrack ----

    @Test
    void shouldReportConntrackNotLoadedAsNoCap() {
        CheckResult c = check(examine(Role.SERVER, 1_000_000), ConntrackCheck.ID);
        assertEquals(Status.OK, c.status());
        assertNull(c.allows());
        assertEquals("not loaded", c.current());
    }

    @Test
    void shouldCapByConntrackTableWhenTracking() {
        fx.conntrack(262_144, 1_000);
        Report report = examine(new Request(Role.PROXY, 200_000, 0, 8, 1));
        CheckResult c = check(report, ConntrackCheck.ID);

        assertEquals((262_144 - 1_000) / 2, c.allows());
        assertEquals(Status.LIMIT, c.status());
        assertEquals(List.of("net.netfilter.nf_conntrack_max = " + (1_000 + 400_000)), sysctlLines(c));
        assertEquals(ConntrackCheck.ID, report.firstLimit().orElseThrow().id());
    }

    @Test
    void shouldOnlyWarnWhenConntrackIsLoadedButTracksNothing() {
        fx.conntrack(262_144, 0);
        Report report = examine(Role.SERVER, 1_000_000);
        CheckResult c = check(report, ConntrackCheck.ID);
        assertEquals(Status.WARN, c.status());
        assertNull(c.allows());
        assertTrue(report.reachable());
    }

    @Test
    void inAContainerAConntrackCountOfZeroIsNotTakenAsTrackingNothing() {
        // Published ports: the host's NAT tracks each connection in its table; this namespace's count says 0.
        fx.conntrack(262_144, 0).write("/.dockerenv", "");
        Report report = examine(Role.SERVER, 1_000_000);
        CheckResult c = check(report, ConntrackCheck.ID);
        assertEquals(Status.LIMIT, c.status());
        assertEquals(262_144L, c.allows());
        assertTrue(c.detail().contains("container"), c.detail());
        assertFalse(report.reachable());
    }

    // ---- memory ----

    @Test
    void shouldWarnButNeverLimitWhenFullBuffersExceedTcpMem() {
        fx.sysctl("net.ipv4.tcp_mem", "1000\t2000\t3000");
        Report report = examine(Role.SERVER, 1_000_000);
        CheckResult c = check(report, TcpMemoryCheck.ID);
        long perSocket = 131_072 + 16_384;

        assertEquals(Status.WARN, c.status());
        assertNull(c.allows());
        assertEquals(1_000_000L * perSocket, c.values().get("fullBufferBytes"));
        assertEquals(3000L * 4096 / perSocket, c.values().get("fullBufferConnections"));
        assertTrue(report.reachable());
    }

    @Test
    void shouldCapByMemAvailableAtMeasuredCostPerConnection() {
        fx.memInfo(4 * GIB, GIB);
        // Enough source addresses that local ports do not cap first.
        Report report = examine(new Request(Role.PROXY, 1_000_000, 0, 64, 1));
        CheckResult memory = check(report, MemoryCheck.ID);
        long perConnection = 2 * ConnectionCost.KERNEL_BYTES_PER_SOCKET + ConnectionCost.HEAP_BYTES_PER_CONNECTION;

        assertEquals(GIB / perConnection, memory.allows());
        assertEquals(Status.LIMIT, memory.status());
        assertEquals(MemoryCheck.ID, report.firstLimit().orElseThrow().id());
        assertTrue(fix(memory, Fix.Kind.OTHER).isPresent());
    }

    @Test
    void shouldCapByCgroupV2MemoryMax() {
        fx.write("/proc/self/cgroup", "0::/system.slice/switchboard.service\n")
                .write("/sys/fs/cgroup/system.slice/switchboard.service/memory.max", "536870912\n")
                .write("/sys/fs/cgroup/system.slice/switchboard.service/memory.current", "12582912\n");
        CheckResult memory = check(examine(Role.SERVER, 1_000_000), MemoryCheck.ID);
        long perConnection = ConnectionCost.memoryBytesPerConnection(Role.SERVER);

        assertEquals((536_870_912L - 12_582_912L) / perConnection, memory.allows());
        assertEquals(Status.LIMIT, memory.status());
        long wanted = 12_582_912L + 1_000_000 * perConnection;
        assertEquals("[Service]\nMemoryMax=" + Counts.sizeArgument(wanted, false),
                fix(memory, Fix.Kind.SYSTEMD).orElseThrow().text());
    }

    @Test
    void shouldApplyParentCgroupLimit() {
        fx.write("/proc/self/cgroup", "0::/kubepods/pod1/ctr\n")
                .write("/sys/fs/cgroup/kubepods/pod1/ctr/memory.max", "max\n")
                .write("/sys/fs/cgroup/kubepods/pod1/memory.max", "1073741824\n")
                .write("/sys/fs/cgroup/kubepods/pod1/memory.current", "0\n");
        CheckResult memory = check(examine(Role.SERVER, 1_000), MemoryCheck.ID);
        assertEquals(1_073_741_824L, memory.values().get("cgroupLimit"));
    }

    @Test
    void shouldReadCgroupV1LimitAndIgnoreUnlimitedValue() {
        fx.write("/proc/self/cgroup", "4:memory:/process_api/abc\n0::/\n")
                .write("/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes", "9223372036854771712\n");
        CheckResult unlimited = check(examine(Role.SERVER, 1_000_000), MemoryCheck.ID);
        assertNull(unlimited.values().get("cgroupLimit"));
        assertEquals(Status.OK, unlimited.status());

        fx.write("/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes", "268435456\n")
                .write("/sys/fs/cgroup/memory/process_api/abc/memory.usage_in_bytes", "0\n");
        CheckResult limited = check(examine(Role.SERVER, 1_000_000), MemoryCheck.ID);
        assertEquals(268_435_456L / ConnectionCost.memoryBytesPerConnection(Role.SERVER), limited.allows());
        assertEquals(Status.LIMIT, limited.status());
    }

    @Test
    void shouldSayContainerMemoryLimitCannotBeRaisedFromInside() {
        fx.dockerWithoutPrivilege().write("/proc/self/cgroup", "0::/\n").write("/sys/fs/cgroup/memory.max", "268435456\n");
        CheckResult memory = check(examine(Role.SERVER, 1_000_000), MemoryCheck.ID);
        assertTrue(memory.cannotRaise().startsWith("Cannot be raised from inside"), memory.cannotRaise());
        assertTrue(fix(memory, Fix.Kind.DOCKER).orElseThrow().text().startsWith("docker run --memory "));
    }

    // ---- JVM heap ----

    @Test
    void shouldCapByJvmMaximumHeap() {
        heapBytes = 256L << 20;
        Report report = examine(Role.SERVER, 1_000_000);
        CheckResult heap = check(report, HeapCheck.ID);
        long usable = (long) (heapBytes * ConnectionCost.USABLE_HEAP_FRACTION);

        assertEquals(usable / ConnectionCost.HEAP_BYTES_PER_CONNECTION, heap.allows());
        assertEquals(Status.LIMIT, heap.status());
        String xmx = fix(heap, Fix.Kind.JVM).orElseThrow().text();
        long suggested = HeapCheck.parseSize(xmx.replaceAll(".*-Xmx(\\w+).*", "$1")).orElseThrow();
        assertTrue((long) (suggested * ConnectionCost.USABLE_HEAP_FRACTION) / ConnectionCost.HEAP_BYTES_PER_CONNECTION
                >= 1_000_000, "the suggested heap must reach the target: " + xmx);
    }

    @Test
    void shouldReadXmxOfAnotherJvm() {
        fx.limits("77", 1_000_000, 1_000_000);
        fx.write("/proc/77/cmdline", "/usr/bin/java\0-Xmx512m\0-XX:MaxHeapSize=2g\0-jar\0s.jar\0");
        CheckResult heap = check(examine(new Request(Role.SERVER, 1_000, 77, 1, 1)), HeapCheck.ID);
        assertEquals(2L << 30, heap.values().get("maxHeapBytes"), "the last heap option wins");
    }

    @Test
    void shouldEstimateDefaultHeapOfJvmWithoutXmx() {
        fx.limits("78", 1_000_000, 1_000_000).memInfo(16 * GIB, 8 * GIB);
        fx.write("/proc/78/cmdline", "java\0-jar\0s.jar\0");
        CheckResult heap = check(examine(new Request(Role.SERVER, 1_000, 78, 1, 1)), HeapCheck.ID);
        assertEquals(16 * GIB / 4, heap.values().get("maxHeapBytes"));
        assertTrue(heap.detail().contains("estimated"), heap.detail());
    }

    @Test
    void shouldEstimateTheDefaultHeapFromTheCgroupLimitAndMaxRamPercentage() {
        // A container limited to 2 GiB on a 64 GiB host: the JVM's default heap is a quarter of the 2 GiB.
        fx.limits("80", 1_000_000, 1_000_000).memInfo(64 * GIB, 60 * GIB);
        fx.write("/proc/80/cmdline", "java\0-jar\0s.jar\0server\0")
                .write("/proc/80/cgroup", "0::/c\n")
                .write("/sys/fs/cgroup/c/memory.max", "2147483648\n")
                .write("/sys/fs/cgroup/c/memory.current", "0\n");
        CheckResult heap = check(examine(new Request(Role.SERVER, 1_000_000, 80, 1, 1)), HeapCheck.ID);
        assertEquals(512L << 20, heap.values().get("maxHeapBytes"));
        assertEquals(Status.LIMIT, heap.status(), "half a million connections need more than 512 MiB of heap");
        assertTrue(heap.detail().contains("cgroup"), heap.detail());

        fx.write("/proc/80/cmdline", "java\0-XX:MaxRAMPercentage=75\0-jar\0s.jar\0server\0");
        CheckResult share = check(examine(new Request(Role.SERVER, 1_000, 80, 1, 1)), HeapCheck.ID);
        assertEquals(1536L << 20, share.values().get("maxHeapBytes"));
        assertTrue(share.detail().contains("75%"), share.detail());
    }

    @Test
    void shouldSkipHeapForProcessThatIsNotJava() {
        fx.limits("79", 1_000_000, 1_000_000).write("/proc/79/cmdline", "/usr/sbin/haproxy\0-f\0/etc/haproxy.cfg\0");
        CheckResult heap = check(examine(new Request(Role.PROXY, 1_000, 79, 1, 1)), HeapCheck.ID);
        assertNull(heap.allows());
        assertEquals("not a JVM", heap.current());
    }

    // ---- kernel ----

    @Test
    void shouldDeriveKernelFeaturesFromVersion() {
        fx.sysctl("kernel.osrelease", "5.15.0-91-generic");
        CheckResult k = check(examine(Role.CLIENT, 1_000), KernelCheck.ID);
        assertEquals(Boolean.TRUE, k.values().get("ipBindAddressNoPort"));
        assertEquals(Boolean.FALSE, k.values().get("ipLocalPortRange"));
        assertEquals(Boolean.TRUE, k.values().get("ioUring"));

        fx.sysctl("kernel.osrelease", "6.3.1").sysctl("kernel.io_uring_disabled", 2);
        CheckResult k2 = check(examine(Role.CLIENT, 1_000), KernelCheck.ID);
        assertEquals(Boolean.TRUE, k2.values().get("ipLocalPortRange"));
        assertEquals(Boolean.FALSE, k2.values().get("ioUring"), "io_uring_disabled = 2 turns it off");
    }

    @Test
    void shouldWarnOutboundRolesOnKernelWithoutBindAddressNoPort() {
        fx.sysctl("kernel.osrelease", "3.10.0-1160.el7.x86_64");
        assertEquals(Status.WARN, check(examine(Role.CLIENT, 1_000), KernelCheck.ID).status());
        assertEquals(Status.OK, check(examine(Role.SERVER, 1_000), KernelCheck.ID).status());
    }

    // ---- privilege and missing files ----

    @Test
    void shouldSaySysctlCannotBeRaisedWhenProcSysIsReadOnly() {
        fx.dockerWithoutPrivilege().sysctl("fs.nr_open", 1_048_576).sysctl("net.core.somaxconn", 128);
        Report report = examine(Role.SERVER, 2_000_000);

        assertTrue(report.privilege().procSysReadOnly());
        String nrOpen = check(report, NrOpenCheck.ID).cannotRaise();
        assertTrue(nrOpen.startsWith("Cannot be raised from inside") && nrOpen.contains("host-wide"), nrOpen);
        String somaxconn = check(report, "somaxconn").cannotRaise();
        assertTrue(somaxconn.contains("docker run --sysctl"), "net.* settings are per network namespace: " + somaxconn);
    }

    @Test
    void shouldSaySysctlNeedsRootForUnprivilegedUser() {
        fx.unprivileged().sysctl("fs.nr_open", 1_048_576);
        String reason = check(examine(Role.SERVER, 2_000_000), NrOpenCheck.ID).cannotRaise();
        assertTrue(reason.startsWith("Needs root") && reason.contains("uid 1000"), reason);
    }

    @Test
    void shouldSayHostWideSysctlIsOutOfReachInUserNamespace() {
        fx.write("/proc/self/uid_map", "         0     100000      65536\n").sysctl("fs.nr_open", 1_048_576);
        Report report = examine(Role.SERVER, 2_000_000);
        assertTrue(report.privilege().userNamespace());
        assertTrue(check(report, NrOpenCheck.ID).cannotRaise().contains("user namespace"));
    }

    @Test
    void shouldLeaveSysctlRaisableForRootOnHost() {
        fx.sysctl("fs.nr_open", 1_048_576);
        assertNull(check(examine(Role.SERVER, 2_000_000), NrOpenCheck.ID).cannotRaise());
    }

    @Test
    void shouldReportUnknownInsteadOfFailingWhenEveryFileIsMissing(@TempDir Path empty) {
        Report report = new Doctor(empty, heapBytes).examine(new Request(Role.PROXY, 1_000_000, 0, 1, 1));

        CheckResult files = check(report, OpenFilesCheck.ID);
        assertEquals("unknown (file missing)", files.current());
        assertEquals(Status.WARN, files.status());
        assertEquals("unknown (file missing)", check(report, NrOpenCheck.ID).current());
        assertEquals("unknown (file missing)", check(report, LocalPortsCheck.ID).current());
        assertEquals("not loaded", check(report, ConntrackCheck.ID).current());
        assertTrue(report.checks().stream().noneMatch(c -> c.current().equals("unknown (error)")),
                "no check may fail with an exception");
        // Only the injected heap is known, and it allows the target; the limits not read are not taken as passed.
        assertEquals(HeapCheck.ID, report.firstLimit().orElseThrow().id());
        assertTrue(report.noKnownLimit());
        assertFalse(report.reachable(), "nothing unread may make the target reachable");
        assertTrue(report.verdict().contains("NOT VERIFIED") && report.verdict().contains("open files"),
                report.verdict());
    }

    @Test
    void shouldReportUnknownForMalformedValues() {
        fx.sysctl("fs.nr_open", "lots").write("/proc/self/limits", "Max open files  many  more  files\n");
        Report report = examine(Role.SERVER, 1_000);
        assertEquals(Status.WARN, check(report, NrOpenCheck.ID).status());
        assertEquals("unknown (cannot parse)", check(report, NrOpenCheck.ID).current());
        assertEquals("unknown (cannot parse)", check(report, OpenFilesCheck.ID).current());
    }

    @Test
    void shouldSayNoLimitFoundWhenNothingIsKnown(@TempDir Path empty) {
        // Another process's heap comes from its command line, so with no files nothing is known.
        Report report = new Doctor(empty, heapBytes).examine(new Request(Role.SERVER, 10, 5, 1, 1));
        assertTrue(report.firstLimit().isEmpty());
        assertTrue(report.headline().contains("no limit found"), report.headline());
        assertFalse(report.reachable(), "nothing was checked");
    }

    // ---- startup warning ----

    @Test
    void shouldGiveStartupWarningOnlyWhenCapped() {
        fx.limits("self", 20_000, 20_000);
        Optional<String> capped = Doctor.startupWarning(dir, heapBytes, "server", 1_000_000, 1, 1);
        assertTrue(capped.isPresent());
        assertTrue(capped.get().contains("can hold at most " + Counts.count(20_000 - RESERVED)), capped.get());
        assertTrue(capped.get().contains("switchboard doctor --role server --target 1000000"), capped.get());
        assertFalse(capped.get().contains("\n"), "one line");

        assertEquals(Optional.empty(), Doctor.startupWarning(dir, heapBytes, "server", 1_000, 1, 1));
    }

    @Test
    void shouldPointBenchWarningAtClientRoleWithItsSources() {
        Optional<String> w = Doctor.startupWarning(dir, heapBytes, "bench", 1_000_000, 2, 1);
        assertTrue(w.orElseThrow().contains("--role client --target 1000000 --sources 2"), w.get());
    }

    @Test
    void shouldNeverThrowFromStartupWarning() {
        assertEquals(Optional.empty(), Doctor.startupWarning(dir, heapBytes, "nonsense", 1_000_000, 1, 1));
        assertEquals(Optional.empty(), Doctor.startupWarning(dir, heapBytes, null, 1_000_000, 1, 1));
        assertEquals(Optional.empty(), Doctor.startupWarning(dir, heapBytes, "server", 0, 1, 1));
        assertEquals(Optional.empty(), Doctor.startupWarning(dir.resolve("absent"), heapBytes, "server", 10, 1, 1));
        // The public entry point reads the real machine; it must answer either way without throwing.
        assertNotNull(Doctor.startupWarning("server", 1_000));
    }
}
