package io.switchboard.doctor;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses positive counts such as {@code 1000000}, {@code 1_000_000}, {@code 1,000,000},
 * {@code 50k} or {@code 1m} (k = 1,000, m = 1,000,000), up to {@link #MAX}. Stateless.
 */
final class CountConverter implements ITypeConverter<Long> {
    /** Far beyond any machine, low enough that costs multiply without overflow. */
    static final long MAX = 1_000_000_000_000L;

    @Override
    public Long convert(String value) {
        String s = value.strip().toLowerCase(Locale.ROOT).replace("_", "").replace(",", "");
        long unit = 1;
        if (s.endsWith("k")) {
            unit = 1_000;
        } else if (s.endsWith("m")) {
            unit = 1_000_000;
        }
        String digits = unit == 1 ? s : s.substring(0, s.length() - 1);
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not a count (examples: 1000000, 50k, 1m)");
        }
        long result = Counts.mul(n, unit);
        if (n < 1 || result > MAX) {
            throw new TypeConversionException("'" + value + "' must be between 1 and " + Counts.count(MAX));
        }
        return result;
    }
}
