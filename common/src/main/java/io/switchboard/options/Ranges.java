package io.switchboard.options;

/** The one-line range check every setting's validation uses, naming the option. Stateless. */
public final class Ranges {
    private Ranges() {}

    /** Throws {@link IllegalArgumentException} "OPTION must be between MIN and MAX, not VALUE" when out of range. */
    public static void check(String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(option + " must be between " + min + " and " + max + ", not " + value);
        }
    }
}
