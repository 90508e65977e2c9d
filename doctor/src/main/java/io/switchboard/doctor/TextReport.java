package io.switchboard.doctor;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Renders a {@link Report} for people: headline, aligned table, then what to change. Stateless. */
final class TextReport {
    static final int WIDTH = 100;
    private static final String[] HEADER = {"CHECK", "CURRENT", "ALLOWS", "STATUS"};

    private TextReport() {
    }

    static void render(Report report, PrintWriter out) {
        out.println(report.headline());
        out.println(report.verdict());
        out.println();
        String firstId = report.firstLimit().map(CheckResult::id).orElse(null);
        List<String[]> rows = new ArrayList<>();
        rows.add(HEADER);
        for (CheckResult c : report.checks()) {
            String allows = c.allows() == null ? "-" : Counts.count(c.allows());
            String status = c.status().label() + (c.id().equals(firstId) ? "  <- first limit" : "");
            rows.add(new String[] {c.name(), c.current(), allows, status});
        }
        int[] width = new int[HEADER.length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                // Numbers align right, text left; the last column needs no padding.
                String cell = row[i];
                if (i == 2) {
                    line.append(" ".repeat(width[i] - cell.length())).append(cell);
                } else if (i == row.length - 1) {
                    line.append(cell);
                } else {
                    line.append(cell).append(" ".repeat(width[i] - cell.length()));
                }
                if (i < row.length - 1) {
                    line.append("  ");
                }
            }
            out.println(line.toString().stripTrailing());
        }
        out.println();
        out.println("Privilege: " + report.privilege().summary() + ".");
        List<CheckResult> attention = report.needingAttention();
        if (attention.isEmpty()) {
            out.flush();
            return;
        }
        out.println();
        out.println("What to change:");
        boolean anySysctl = false;
        for (CheckResult c : attention) {
            out.println();
            out.println("[" + c.status().label() + "] " + c.name() + ": " + c.current());
            wrap(out, c.detail(), "  ");
            if (c.cannotRaise() != null) {
                wrap(out, c.cannotRaise(), "  ");
            }
            for (Fix f : c.fixes()) {
                anySysctl |= f.kind() == Fix.Kind.SYSCTL;
                out.println("  " + describe(f) + ":");
                for (String line : f.text().split("\n")) {
                    out.println("      " + line);
                }
                if (f.apply() != null) {
                    out.println("    then: " + f.apply());
                }
            }
        }
        if (anySysctl) {
            out.println();
            out.println("All sysctl lines in one file (written, never applied): add --write-sysctl FILE.");
        }
        out.flush();
    }

    private static String describe(Fix f) {
        return switch (f.kind()) {
            case SYSCTL, LIMITS_CONF, SYSTEMD, ULIMIT, JVM -> "in " + f.where();
            case DOCKER -> "docker, " + f.where();
            case PRLIMIT -> "for " + f.where();
            case SPLIT, OTHER -> f.where();
        };
    }

    /** Prints {@code text} in lines of at most {@link #WIDTH} columns, each starting with {@code indent}. */
    static void wrap(PrintWriter out, String text, String indent) {
        if (text == null || text.isBlank()) {
            return;
        }
        StringBuilder line = new StringBuilder(indent);
        for (String word : text.split(" ")) {
            if (line.length() > indent.length() && line.length() + 1 + word.length() > WIDTH) {
                out.println(line);
                line = new StringBuilder(indent);
            }
            if (line.length() > indent.length()) {
                line.append(' ');
            }
            line.append(word);
        }
        if (line.length() > indent.length()) {
            out.println(line);
        }
    }
}
