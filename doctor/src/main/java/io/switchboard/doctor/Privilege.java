package io.switchboard.doctor;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the examining process may change: whether it is root, holds {@code CAP_SYS_RESOURCE}
 * (needed to raise a hard limit), runs in a container or user namespace, and whether
 * {@code /proc/sys} is writable. Read from {@code /proc/self} below the root. Immutable.
 */
record Privilege(boolean root, long uid, boolean sysResource, boolean sysResourceBounded, boolean container,
                 String containerEvidence, boolean procSysReadOnly, boolean userNamespace) {

    static final int CAP_SYS_RESOURCE = 24;
    private static final List<String> CONTAINER_MARKERS =
            List.of("docker", "kubepods", "containerd", "libpod", "lxc", "crio");

    static Privilege detect(SystemFiles files) {
        long uid = -1;
        long capEff = 0;
        long capBnd = 0;
        for (String line : files.lines("/proc/self/status")) {
            if (line.startsWith("Uid:")) {
                String[] f = line.substring(4).strip().split("\\s+");
                // Fields: real, effective, saved, filesystem; privilege follows the effective uid.
                if (f.length > 1) {
                    uid = SystemFiles.parseLong(f[1]).orElse(-1);
                }
            } else if (line.startsWith("CapEff:")) {
                capEff = parseHex(line.substring(7));
            } else if (line.startsWith("CapBnd:")) {
                capBnd = parseHex(line.substring(7));
            }
        }
        long bit = 1L << CAP_SYS_RESOURCE;
        String evidence = containerEvidence(files);
        return new Privilege(uid == 0, uid, (capEff & bit) != 0, (capBnd & bit) != 0, evidence != null,
                evidence, procSysReadOnly(files), userNamespace(files));
    }

    private static long parseHex(String text) {
        try {
            return Long.parseUnsignedLong(text.strip(), 16);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String containerEvidence(SystemFiles files) {
        if (files.exists("/.dockerenv")) {
            return "/.dockerenv";
        }
        if (files.exists("/run/.containerenv")) {
            return "/run/.containerenv";
        }
        String cgroup = files.read("/proc/1/cgroup").orElse("").toLowerCase(Locale.ROOT);
        for (String marker : CONTAINER_MARKERS) {
            if (cgroup.contains(marker)) {
                return "/proc/1/cgroup names " + marker;
            }
        }
        if (userNamespace(files)) {
            return "user namespace (/proc/self/uid_map)";
        }
        return null;
    }

    /** Whether the mount that holds {@code /proc/sys} is read-only, as Docker mounts it without --privileged. */
    private static boolean procSysReadOnly(SystemFiles files) {
        String best = null;
        boolean readOnly = false;
        for (String line : files.lines("/proc/self/mountinfo")) {
            String[] f = line.split(" ");
            if (f.length < 6) {
                continue;
            }
            String mountPoint = f[4];
            boolean covers = mountPoint.equals("/proc/sys") || mountPoint.equals("/proc") || mountPoint.equals("/");
            if (covers && (best == null || mountPoint.length() >= best.length())) {
                best = mountPoint;
                readOnly = List.of(f[5].split(",")).contains("ro");
            }
        }
        return readOnly;
    }

    /** A uid map other than the identity means a user namespace: host-wide settings are out of reach. */
    private static boolean userNamespace(SystemFiles files) {
        Optional<String> map = files.read("/proc/self/uid_map");
        if (map.isEmpty()) {
            return false;
        }
        String[] f = map.get().strip().split("\\s+");
        if (f.length != 3) {
            return true;
        }
        OptionalLong count = SystemFiles.parseLong(f[2]);
        return !(f[0].equals("0") && f[1].equals("0") && count.isPresent() && count.getAsLong() == 4294967295L);
    }

    /** Why this process cannot write sysctl {@code name}, or empty when it can. */
    Optional<String> sysctlBlocker(String name) {
        boolean hostWide = Sysctls.hostWide(name);
        if (procSysReadOnly) {
            return Optional.of("Cannot be raised from inside: /proc/sys is mounted read-only here"
                    + (container ? " (container)" : "") + "; "
                    + (hostWide ? name + " is host-wide, so set it on the host."
                                : "set it on the host or when the container starts (docker run --sysctl).")
            );
        }
        if (userNamespace && hostWide) {
            return Optional.of("Cannot be raised from inside: " + name
                    + " is host-wide and this process runs in a user namespace; set it on the host.");
        }
        if (!root) {
            return Optional.of("Needs root: this process runs as uid " + (uid < 0 ? "unknown" : uid)
                    + "; apply the sysctl lines with sudo.");
        }
        return Optional.empty();
    }

    /** Why a hard resource limit cannot be raised from here, or empty when it can. */
    Optional<String> hardLimitBlocker() {
        if (sysResource) {
            return Optional.empty();
        }
        if (!sysResourceBounded) {
            return Optional.of("Cannot be raised from inside: CAP_SYS_RESOURCE is not in this process's"
                    + " capability bounding set" + (container ? " (container: " + containerEvidence + ")" : "")
                    + ", so not even root can go above the hard limit here; raise it where the process"
                    + " or container is started.");
        }
        return Optional.of("Needs root: going above the hard limit needs CAP_SYS_RESOURCE; apply the lines"
                + " below as root, then start a new session or restart the service.");
    }

    /** One line for reports: {@code root, container (/.dockerenv), /proc/sys writable, no CAP_SYS_RESOURCE}. */
    String summary() {
        StringBuilder s = new StringBuilder(root ? "root" : "uid " + (uid < 0 ? "unknown" : uid));
        s.append(container ? ", container (" + containerEvidence + ")" : ", no container detected");
        s.append(procSysReadOnly ? ", /proc/sys read-only" : ", /proc/sys writable");
        s.append(sysResource ? ", CAP_SYS_RESOURCE" : ", no CAP_SYS_RESOURCE");
        if (userNamespace) {
            s.append(", user namespace");
        }
        return s.toString();
    }
}
