package io.switchboard.doctor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds a ready {@code /etc/sysctl.d/} file from a report's sysctl fixes, one line per setting
 * (the largest value when two checks ask for the same one). Only text: applying it is left to
 * the operator. Stateless.
 */
final class SysctlFile {

    private SysctlFile() {
    }

    static String render(Report report, String commandLine) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> reasons = new LinkedHashMap<>();
        for (CheckResult c : report.checks()) {
            for (Fix f : c.fixes()) {
                if (f.kind() != Fix.Kind.SYSCTL) {
                    continue;
                }
                String name = f.sysctlName();
                values.merge(name, f.sysctlValue(), SysctlFile::larger);
                reasons.merge(name, c.name() + " [" + c.status().label() + "]", (a, b) -> a + ", " + b);
            }
        }
        StringBuilder out = new StringBuilder();
        out.append("# Switchboard: kernel settings for ").append(Counts.count(report.request().target()))
                .append(" connections, role ").append(report.request().role().cliName()).append('\n');
        out.append("# Written by `").append(commandLine).append("`; nothing has been applied.\n");
        if (values.isEmpty()) {
            out.append("# Nothing to change: no kernel setting caps this target here.\n");
            return out.toString();
        }
        out.append("# Review, then install and apply as root:\n");
        out.append("#   cp THIS_FILE ").append(Fix.SYSCTL_FILE).append(" && sysctl -p ").append(Fix.SYSCTL_FILE).append('\n');
        for (Map.Entry<String, String> e : values.entrySet()) {
            out.append('\n').append("# ").append(reasons.get(e.getKey())).append('\n');
            out.append(e.getKey()).append(" = ").append(e.getValue()).append('\n');
        }
        return out.toString();
    }

    /** The larger of two single-number values; otherwise the first. */
    private static String larger(String a, String b) {
        try {
            return Long.parseLong(a) >= Long.parseLong(b) ? a : b;
        } catch (NumberFormatException e) {
            return a;
        }
    }
}
