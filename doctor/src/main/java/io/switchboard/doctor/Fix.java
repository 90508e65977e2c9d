package io.switchboard.doctor;

import java.util.Locale;
import java.util.Objects;

/**
 * One copy-paste remedy: the text to put somewhere ({@code where}) and, when needed, the command
 * that makes it take effect ({@code apply}, may be null). Immutable.
 */
record Fix(Kind kind, String where, String text, String apply) {

    /** Where the remedy goes. */
    enum Kind {
        SYSCTL, ULIMIT, LIMITS_CONF, SYSTEMD, DOCKER, PRLIMIT, JVM, SPLIT, OTHER;

        String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** Where {@code --write-sysctl} suggests its file goes, and where sysctl fixes point. */
    static final String SYSCTL_FILE = "/etc/sysctl.d/99-switchboard.conf";

    /** The systemd unit the drop-ins name. */
    static final String SYSTEMD_DROP_IN_DIR = "/etc/systemd/system/switchboard.service.d";

    Fix {
        Objects.requireNonNull(kind);
        Objects.requireNonNull(where);
        Objects.requireNonNull(text);
    }

    static Fix sysctl(String name, String value) {
        return new Fix(Kind.SYSCTL, SYSCTL_FILE, name + " = " + value, "sysctl -p " + SYSCTL_FILE);
    }

    static Fix sysctl(String name, long value) {
        return sysctl(name, Long.toString(value));
    }

    /** The sysctl name when this is a sysctl fix, else null. */
    String sysctlName() {
        if (kind != Kind.SYSCTL) {
            return null;
        }
        int eq = text.indexOf('=');
        return eq < 0 ? text.trim() : text.substring(0, eq).trim();
    }

    /** The sysctl value when this is a sysctl fix, else null. */
    String sysctlValue() {
        if (kind != Kind.SYSCTL) {
            return null;
        }
        int eq = text.indexOf('=');
        return eq < 0 ? "" : text.substring(eq + 1).trim();
    }
}
