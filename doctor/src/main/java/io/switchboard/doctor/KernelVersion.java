package io.switchboard.doctor;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A kernel release such as {@code 6.8.0-45-generic}, compared by major and minor. Immutable. */
record KernelVersion(int major, int minor, String release) {
    static final String OSRELEASE = "/proc/sys/kernel/osrelease";
    private static final Pattern VERSION = Pattern.compile("^(\\d+)\\.(\\d+)");

    static Optional<KernelVersion> parse(String release) {
        String r = release.strip();
        Matcher m = VERSION.matcher(r);
        if (!m.find()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new KernelVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), r));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    static Optional<KernelVersion> read(SystemFiles files) {
        return files.read(OSRELEASE).flatMap(KernelVersion::parse);
    }

    boolean atLeast(int wantMajor, int wantMinor) {
        return major > wantMajor || (major == wantMajor && minor >= wantMinor);
    }

    /** {@code IP_BIND_ADDRESS_NO_PORT}: bind to a source address without reserving a port (4.2). */
    boolean hasBindAddressNoPort() {
        return atLeast(4, 2);
    }

    /** {@code IP_LOCAL_PORT_RANGE}: per-socket port range (6.3). */
    boolean hasLocalPortRange() {
        return atLeast(6, 3);
    }

    /** io_uring system calls (5.1). */
    boolean hasIoUring() {
        return atLeast(5, 1);
    }
}
