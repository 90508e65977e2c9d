package io.switchboard.options;

import java.util.Locale;

/** Parses byte sizes as settings take them: {@code 1048576}, {@code 512k}, {@code 256m}, {@code 1g}. Stateless. */
public final class Sizes {
    private Sizes() {}

    /**
     * Bytes in {@code word}: digits with an optional binary unit {@code k}, {@code m}, {@code g} or {@code t}
     * (case-insensitive). Throws {@link IllegalArgumentException} naming {@code option} when it is none.
     */
    public static long parse(String option, String word) {
        String s = word.strip().toLowerCase(Locale.ROOT);
        int shift = s.isEmpty() ? 0 : switch (s.charAt(s.length() - 1)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        String digits = shift == 0 ? s : s.substring(0, s.length() - 1);
        long n = -1;
        if (!digits.isEmpty() && digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            try {
                n = Long.parseLong(digits);
            } catch (NumberFormatException e) {
                n = -1; // too many digits
            }
        }
        if (n < 0 || n > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException(option + " must be a size in bytes such as 1048576, 512k, 256m or 1g, not '"
                    + word + "'");
        }
        return n << shift;
    }
}
