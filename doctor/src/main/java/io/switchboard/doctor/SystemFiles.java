package io.switchboard.doctor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads {@code /proc} and {@code /sys} text files below an injectable root (tests point it at a
 * fixture tree). Every read answers "absent" instead of throwing. Immutable; safe from any thread.
 */
final class SystemFiles {
    private static final int CHUNK_BYTES = 16 * 1024;
    /** Far above any file read here; guards against reading something endless by mistake. */
    private static final int MAX_BYTES = 8 * 1024 * 1024;
    private final Path root;

    SystemFiles(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    /** The file for an absolute path such as {@code /proc/sys/fs/nr_open}, below the root. */
    Path resolve(String absolutePath) {
        String relative = absolutePath.startsWith("/") ? absolutePath.substring(1) : absolutePath;
        return root.resolve(relative);
    }

    boolean exists(String absolutePath) {
        try {
            return Files.exists(resolve(absolutePath));
        } catch (InvalidPathException | SecurityException e) {
            return false;
        }
    }

    /** The whole file, or empty when it is missing or unreadable. */
    Optional<String> read(String absolutePath) {
        // Not Files.readString: procfs reports size 0, so it probes with a one-byte read, and a sysctl
        // file read again at offset 1 answers EOF ("1048576" came back as "1"). Read in large chunks.
        try (InputStream in = Files.newInputStream(resolve(absolutePath))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(CHUNK_BYTES);
            byte[] chunk = new byte[CHUNK_BYTES];
            int n;
            while ((n = in.read(chunk)) > 0) {
                out.write(chunk, 0, n);
                if (out.size() > MAX_BYTES) {
                    return Optional.empty();
                }
            }
            // ISO-8859-1 maps every byte, so odd bytes (cmdline, environ) never fail decoding.
            return Optional.of(out.toString(StandardCharsets.ISO_8859_1));
        } catch (IOException | InvalidPathException | SecurityException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    /** The first whitespace-separated number of the file. */
    OptionalLong readLong(String absolutePath) {
        return read(absolutePath).map(SystemFiles::firstNumber).orElse(OptionalLong.empty());
    }

    /** All whitespace-separated numbers of the file; empty when missing or any token is not a number. */
    Optional<long[]> readLongs(String absolutePath) {
        return read(absolutePath).flatMap(SystemFiles::numbers);
    }

    static OptionalLong firstNumber(String text) {
        return numbers(text).filter(n -> n.length > 0).map(n -> OptionalLong.of(n[0])).orElse(OptionalLong.empty());
    }

    static Optional<long[]> numbers(String text) {
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            return Optional.empty();
        }
        String[] tokens = trimmed.split("\\s+");
        long[] out = new long[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            OptionalLong n = parseLong(tokens[i]);
            if (n.isEmpty()) {
                return Optional.empty();
            }
            out[i] = n.getAsLong();
        }
        return Optional.of(out);
    }

    static OptionalLong parseLong(String token) {
        try {
            return OptionalLong.of(Long.parseLong(token.strip()));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** The lines of the file, or an empty list. */
    List<String> lines(String absolutePath) {
        return read(absolutePath).map(t -> t.lines().toList()).orElseGet(ArrayList::new);
    }
}
