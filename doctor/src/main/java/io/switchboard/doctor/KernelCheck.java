package io.switchboard.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The kernel version and the features it enables: {@code IP_BIND_ADDRESS_NO_PORT} (4.2),
 * {@code IP_LOCAL_PORT_RANGE} (6.3) and io_uring (5.1, unless {@code kernel.io_uring_disabled}).
 * Informational: warns only when an outbound role lacks {@code IP_BIND_ADDRESS_NO_PORT}. Stateless.
 */
final class KernelCheck implements Check {
    static final String ID = "kernel";
    static final String IO_URING_DISABLED = "/proc/sys/kernel/io_uring_disabled";

    @Override
    public boolean appliesTo(Role role) {
        return true;
    }

    @Override
    public CheckResult run(Context ctx) {
        CheckResult.Builder b = CheckResult.builder(ID, "kernel");
        Optional<KernelVersion> kernel = ctx.kernel();
        if (kernel.isEmpty()) {
            return b.unknown(ctx.files(), KernelVersion.OSRELEASE, Status.WARN).build();
        }
        KernelVersion k = kernel.get();
        OptionalLong disabled = ctx.files().readLong(IO_URING_DISABLED);
        boolean ioUring = k.hasIoUring() && disabled.orElse(0) != 2;
        List<String> missing = new ArrayList<>();
        b.value("release", k.release())
                .value("ipBindAddressNoPort", k.hasBindAddressNoPort())
                .value("ipLocalPortRange", k.hasLocalPortRange())
                .value("ioUring", ioUring)
                .value("ioUringDisabled", disabled.isPresent() ? disabled.getAsLong() : null);
        if (!k.hasBindAddressNoPort()) {
            missing.add("IP_BIND_ADDRESS_NO_PORT (4.2)");
        }
        if (!k.hasLocalPortRange()) {
            missing.add("IP_LOCAL_PORT_RANGE (6.3)");
        }
        if (!k.hasIoUring()) {
            missing.add("io_uring (5.1)");
        }
        b.current(k.major() + "." + k.minor() + (missing.isEmpty() ? ", all features" : ", lacks " + missing.size()));
        b.say("Kernel " + k.release() + ": IP_BIND_ADDRESS_NO_PORT " + yesNo(k.hasBindAddressNoPort())
                + ", IP_LOCAL_PORT_RANGE " + yesNo(k.hasLocalPortRange()) + ", io_uring " + yesNo(ioUring) + ".");
        if (k.hasIoUring() && disabled.orElse(0) == 2) {
            b.say("io_uring is disabled by kernel.io_uring_disabled = 2; the epoll transport works regardless.");
        } else if (k.hasIoUring() && disabled.orElse(0) == 1) {
            b.say("kernel.io_uring_disabled = 1: only privileged processes or the kernel.io_uring_group may use io_uring.");
        }
        if (ctx.role().opensOutbound() && !k.hasBindAddressNoPort()) {
            b.status(Status.WARN).say("Without IP_BIND_ADDRESS_NO_PORT each source address offers one shared pool of ports.")
                    .fix(new Fix(Fix.Kind.OTHER, "this machine", "upgrade to kernel 4.2 or later", null));
        }
        return b.build();
    }

    private static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }
}
