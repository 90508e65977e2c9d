package io.switchboard.doctor;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * Memory available ({@code MemAvailable}) and the cgroup memory limit against the measured cost
 * per connection (kernel sockets plus Switchboard's heap, {@link ConnectionCost}). Stateless.
 */
final class MemoryCheck implements Check {
    static final String ID = "memory";

    @Override
    public boolean appliesTo(Role role) {
        return true;
    }

    @Override
    public CheckResult run(Context ctx) {
        CheckResult.Builder b = CheckResult.builder(ID, "memory");
        long perConnection = ConnectionCost.memoryBytesPerConnection(ctx.role());
        OptionalLong available = memAvailable(ctx.files());
        Optional<CgroupMemory> cgroup = CgroupMemory.read(ctx.files(), ctx.request().procDir());
        b.value("bytesPerConnection", perConnection)
                .value("memAvailable", available.isPresent() ? available.getAsLong() : null)
                .value("cgroupLimit", cgroup.map(CgroupMemory::limitBytes).orElse(null))
                .value("cgroupUsage", cgroup.map(CgroupMemory::usageBytes).orElse(null))
                .value("cgroupFile", cgroup.map(CgroupMemory::file).orElse(null));
        if (available.isEmpty() && cgroup.isEmpty()) {
            return b.unknown(ctx.files(), "/proc/meminfo", Status.WARN).build();
        }
        long room = Long.MAX_VALUE;
        boolean cgroupBinds = false;
        StringBuilder current = new StringBuilder();
        if (available.isPresent()) {
            room = available.getAsLong();
            current.append(Counts.bytes(room)).append(" available");
        } else {
            b.say("/proc/meminfo has no MemAvailable, so only the cgroup limit is checked.");
        }
        if (cgroup.isPresent()) {
            CgroupMemory c = cgroup.get();
            if (!current.isEmpty()) {
                current.append(", ");
            }
            current.append("cgroup ").append(Counts.bytes(c.limitBytes()));
            if (c.remainingBytes() < room) {
                room = c.remainingBytes();
                cgroupBinds = true;
            }
        } else {
            current.append(", no cgroup limit");
        }
        long needed = Counts.mul(ctx.target(), perConnection);
        b.current(current.toString()).value("needed", needed).allows(room / perConnection)
                .say(Counts.bytes(perConnection) + " per connection (" + ctx.role().socketsPerConnection() + " x "
                        + Counts.count(ConnectionCost.KERNEL_BYTES_PER_SOCKET) + " B kernel socket + "
                        + Counts.count(ConnectionCost.HEAP_BYTES_PER_CONNECTION) + " B heap): "
                        + Counts.count(ctx.target()) + " connections need " + Counts.bytes(needed) + ".");
        if (room >= needed) {
            return b.build();
        }
        b.status(Status.LIMIT);
        if (cgroupBinds) {
            CgroupMemory c = cgroup.get();
            long wanted = Counts.add(c.usageBytes(), needed);
            String size = Counts.sizeArgument(wanted, false);
            b.say("The cgroup limit (" + c.file() + ") leaves " + Counts.bytes(c.remainingBytes()) + ".")
                    .fix(new Fix(Fix.Kind.SYSTEMD, Fix.SYSTEMD_DROP_IN_DIR + "/memory.conf", "[Service]\nMemoryMax=" + size,
                            "systemctl daemon-reload && systemctl restart switchboard"));
            if (ctx.privilege().container()) {
                b.fix(new Fix(Fix.Kind.DOCKER, "where the container is started", "docker run --memory " + Counts.sizeArgument(wanted, true) + " ...", null))
                        .cannotRaise("Cannot be raised from inside: a container's memory limit is set where it starts.");
            }
        } else {
            long machines = Counts.ceilDiv(needed, Math.max(1, room));
            b.fix(new Fix(Fix.Kind.OTHER, "this machine",
                    "add " + Counts.bytes(needed - room) + " of memory, or spread the connections over "
                            + Counts.count(machines) + " machines like this one", null));
        }
        return b.build();
    }

    static OptionalLong memAvailable(SystemFiles files) {
        return memInfo(files, "MemAvailable:");
    }

    static OptionalLong memTotal(SystemFiles files) {
        return memInfo(files, "MemTotal:");
    }

    private static OptionalLong memInfo(SystemFiles files, String key) {
        for (String line : files.lines("/proc/meminfo")) {
            if (line.startsWith(key)) {
                String[] f = line.substring(key.length()).strip().split("\\s+");
                OptionalLong kib = SystemFiles.parseLong(f[0]);
                return kib.isPresent() ? OptionalLong.of(Counts.mul(kib.getAsLong(), 1024)) : OptionalLong.empty();
            }
        }
        return OptionalLong.empty();
    }
}
