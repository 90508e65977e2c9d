package io.switchboard.doctor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What one check found: the current value for people ({@code current}) and machines
 * ({@code values}), how many connections it allows ({@code allows}, null when it does not cap the
 * count or is unknown), the verdict, an explanation, why it cannot be raised from here
 * ({@code cannotRaise}, null when it can) and the fixes. Immutable.
 */
record CheckResult(String id, String name, String current, Map<String, Object> values, Long allows,
                   Status status, String detail, String cannotRaise, List<Fix> fixes) {

    CheckResult {
        Objects.requireNonNull(id);
        Objects.requireNonNull(name);
        Objects.requireNonNull(current);
        Objects.requireNonNull(status);
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        fixes = List.copyOf(fixes);
        detail = detail == null ? "" : detail;
    }

    static Builder builder(String id, String name) {
        return new Builder(id, name);
    }

    /** Collects a result while a check runs; confined to that check's thread. */
    static final class Builder {
        private final String id;
        private final String name;
        private String current = "";
        private final Map<String, Object> values = new LinkedHashMap<>();
        private Long allows;
        private Status status = Status.OK;
        private final StringBuilder detail = new StringBuilder();
        private String cannotRaise;
        private final List<Fix> fixes = new ArrayList<>();

        private Builder(String id, String name) {
            this.id = id;
            this.name = name;
        }

        Builder current(String text) {
            current = text;
            return this;
        }

        Builder value(String key, Object value) {
            values.put(key, value);
            return this;
        }

        Builder allows(long connections) {
            allows = Math.max(0, connections);
            return this;
        }

        Builder status(Status s) {
            status = s;
            return this;
        }

        /** Raises the status to at least {@code s}; never lowers it. */
        Builder atLeast(Status s) {
            if (s.compareTo(status) > 0) {
                status = s;
            }
            return this;
        }

        /** Appends one sentence to the explanation. */
        Builder say(String sentence) {
            if (sentence == null || sentence.isEmpty()) {
                return this;
            }
            if (!detail.isEmpty()) {
                detail.append(' ');
            }
            detail.append(sentence);
            return this;
        }

        Builder cannotRaise(String reason) {
            if (reason == null || reason.isEmpty()) {
                return this;
            }
            cannotRaise = cannotRaise == null ? reason : cannotRaise + " " + reason;
            return this;
        }

        Builder fix(Fix fix) {
            fixes.add(fix);
            return this;
        }

        /** Marks the value unknown because {@code path} is missing, or present but not what the kernel writes. */
        Builder unknown(SystemFiles files, String path, Status s) {
            boolean present = files.exists(path);
            current = present ? "unknown (cannot parse)" : "unknown (file missing)";
            status = s;
            say(path + (present ? " could not be parsed" : " is missing") + ", so this limit could not be checked.");
            value(present ? "unparsable" : "missing", path);
            return this;
        }

        CheckResult build() {
            return new CheckResult(id, name, current, values, allows, status, detail.toString(), cannotRaise, fixes);
        }
    }
}
