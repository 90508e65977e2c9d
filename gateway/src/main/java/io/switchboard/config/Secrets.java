package io.switchboard.config;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * Where a secret setting comes from: its option (visible in {@code ps}), a file, or an environment variable; and
 * which addresses are loopback. Errors are one line naming the option. Stateless.
 */
final class Secrets {
    static final String API_TOKEN_ENV = "SWITCHBOARD_API_TOKEN";
    static final String JWT_SECRET_ENV = "SWITCHBOARD_JWT_SECRET";
    static final String UPSTREAM_TOKEN_ENV = "SWITCHBOARD_UPSTREAM_TOKEN";

    private Secrets() {
    }

    /**
     * The secret from {@code option}'s value, else from the first line of {@code fileOption}'s file, else from the
     * environment variable {@code env} (null: none); null when none of them gives one. Option and file together are
     * refused; an unreadable or empty file too.
     */
    static String resolve(String option, String value, String fileOption, String file, String env,
                          UnaryOperator<String> environment) {
        boolean hasValue = value != null && !value.isEmpty();
        if (file != null) {
            if (hasValue) {
                throw new IllegalArgumentException(option + " and " + fileOption + " are mutually exclusive: give one");
            }
            return readFile(fileOption, file);
        }
        if (hasValue) {
            return value;
        }
        String fromEnv = env == null ? null : environment.apply(env);
        return fromEnv == null || fromEnv.isBlank() ? null : fromEnv.strip();
    }

    private static String readFile(String fileOption, String file) {
        String text;
        try {
            text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(fileOption + ": cannot read " + file + " (" + reason(e) + ")");
        }
        String firstLine = text.lines().findFirst().orElse("").strip();
        if (firstLine.isEmpty()) {
            throw new IllegalArgumentException(fileOption + ": " + file + " is empty (the secret is its first line)");
        }
        return firstLine;
    }

    private static String reason(Exception e) {
        return switch (e) {
            case java.nio.file.NoSuchFileException n -> "no such file";
            case java.nio.file.AccessDeniedException a -> "permission denied";
            case java.nio.charset.CharacterCodingException c -> "not UTF-8 text";
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
    }

    /** Whether {@code host} names a loopback address only (an address other hosts cannot reach). */
    static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException | RuntimeException e) {
            return false;
        }
    }
}
