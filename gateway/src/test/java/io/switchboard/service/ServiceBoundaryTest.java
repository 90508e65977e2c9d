package io.switchboard.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The service boundary holds in the sources: the API reaches the core only through {@code service}, and the core
 * depends on {@code service}, never the reverse. Reads the gateway's main sources (the module directory is the
 * working directory of its tests).
 */
class ServiceBoundaryTest {
    private static final Path SOURCES = Path.of("src/main/java/io/switchboard");
    private static final Pattern REFERENCE = Pattern.compile("io\\.switchboard\\.([a-z]+)\\.");

    @Test
    void shouldKeepTheServicePackageFreeOfOtherGatewayPackages() throws IOException {
        assertEquals(Set.of("metrics"), referencedPackages("service"));
    }

    @Test
    void shouldLetTheApiReachTheCoreOnlyThroughTheServices() throws IOException {
        Set<String> used = referencedPackages("api");
        assertTrue(Set.of("service", "metrics", "swb", "transport", "process").containsAll(used),
                "api references " + used);
    }

    @Test
    void shouldKeepTheSessionCoreIgnorantOfTheApiAndTheServer() throws IOException {
        Set<String> used = referencedPackages("session");
        assertTrue(!used.contains("api") && !used.contains("server"), "session references " + used);
    }

    /** Other {@code io.switchboard} packages named anywhere in a package's sources (imports, code, javadoc). */
    private static Set<String> referencedPackages(String pkg) throws IOException {
        Set<String> used = new TreeSet<>();
        try (Stream<Path> files = Files.list(SOURCES.resolve(pkg))) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                Matcher m = REFERENCE.matcher(Files.readString(f));
                while (m.find()) {
                    used.add(m.group(1));
                }
            }
        }
        used.remove(pkg);
        return used;
    }
}
