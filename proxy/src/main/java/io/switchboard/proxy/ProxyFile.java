package io.switchboard.proxy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The proxy's config file: several listeners, each with its own route. One setting per line, {@code NAME VALUE},
 * where NAME is a command-line option without its dashes; {@code #} starts a comment. Settings before the first
 * {@code listen} are global (process-wide options, and defaults for every route); each {@code listen ADDR:PORT}
 * starts a route whose settings follow until the next {@code listen}:
 *
 * <pre>
 * max-connections 200000
 * source 10.0.0.5-10.0.0.9
 * idle-timeout 600            # a default for every listener
 *
 * listen 0.0.0.0:7443
 * upstream 10.1.0.1:7000,10.1.0.2:7000
 * tls-cert /etc/switchboard/cert.pem
 * tls-key /etc/switchboard/key.pem
 * send-proxy v2
 *
 * listen 0.0.0.0:1883
 * upstream 10.1.0.3:1883
 * balance least
 * </pre>
 *
 * Values are parsed by the same picocli options as the command line ({@link ProxyOptions}, {@link RouteOptions}),
 * so names, defaults and checks are the same; every error is one line {@code FILE:LINE: what is wrong}. Stateless.
 */
public final class ProxyFile {
    @Command(name = "global")
    static final class GlobalSection {
        @Mixin
        ProxyOptions proxy = new ProxyOptions();
        @Mixin
        RouteOptions routeDefaults = new RouteOptions();
    }

    @Command(name = "listen")
    static final class ListenSection {
        @Mixin
        RouteOptions route = new RouteOptions();
    }

    private record Setting(int line, String name, String arg) {}

    private ProxyFile() {}

    /** Reads and checks {@code file}; every problem is an IllegalArgumentException with one line. */
    public static ProxyConfig load(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
        ProxyConfig config = parse(file.toString(), lines);
        config.file = file;
        return config;
    }

    /** Parses the lines of a file named {@code name} (used in error messages). */
    static ProxyConfig parse(String name, List<String> lines) {
        CommandLine globalSpec = new CommandLine(new GlobalSection());
        CommandLine listenSpec = new CommandLine(new ListenSection());
        List<Setting> global = new ArrayList<>();
        List<List<Setting>> blocks = new ArrayList<>();
        List<Setting> current = global;
        for (int i = 0; i < lines.size(); i++) {
            int n = i + 1;
            String text = lines.get(i);
            int hash = text.indexOf('#');
            text = (hash >= 0 ? text.substring(0, hash) : text).trim();
            if (text.isEmpty()) {
                continue;
            }
            String[] kv = text.split("[\\s=]+", 2);
            String key = kv[0].startsWith("--") ? kv[0].substring(2) : kv[0];
            String value = kv.length > 1 ? kv[1].trim() : "";
            String where = name + ":" + n + ": ";
            if (key.equals("listen")) {
                if (value.isEmpty()) {
                    throw new IllegalArgumentException(where + "listen wants ADDR:PORT");
                }
                current = new ArrayList<>();
                blocks.add(current);
            }
            CommandLine section = current == global ? globalSpec : listenSpec;
            OptionSpec option = section.getCommandSpec().findOption("--" + key);
            if (option == null) {
                if (current != global && globalSpec.getCommandSpec().findOption("--" + key) != null) {
                    throw new IllegalArgumentException(where + "'" + key + "' is a global setting: put it before "
                            + "the first listen");
                }
                throw new IllegalArgumentException(where + "unknown setting '" + key + "' (the names are those of "
                        + "switchboard proxy --help, without the dashes)");
            }
            String arg = argument(where, key, value, option);
            if (arg == null) {
                continue;
            }
            try {
                // Checked alone first, so a bad value is reported with its line.
                new CommandLine(current == global ? new GlobalSection() : new ListenSection()).parseArgs(arg);
            } catch (CommandLine.ParameterException e) {
                throw new IllegalArgumentException(where + e.getMessage());
            }
            current.add(new Setting(n, key, arg));
        }
        if (blocks.isEmpty()) {
            throw new IllegalArgumentException(name + ": no listen block (add 'listen ADDR:PORT' and its "
                    + "'upstream HOST:PORT')");
        }
        GlobalSection g = new GlobalSection();
        parseAll(new CommandLine(g), args(global));
        ProxyConfig config;
        try {
            config = g.proxy.toConfig();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
        List<String> defaults = new ArrayList<>();
        for (Setting s : global) {
            if (listenSpec.getCommandSpec().findOption("--" + s.name()) != null) {
                defaults.add(s.arg());
            }
        }
        for (List<Setting> block : blocks) {
            ListenSection l = new ListenSection();
            List<String> all = new ArrayList<>(defaults);
            all.addAll(args(block));
            parseAll(new CommandLine(l), all);
            String where = name + ":" + block.get(0).line() + ": ";
            try {
                config.routes.add(l.route.toRoute().validate(""));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + e.getMessage(), e);
            }
        }
        try {
            config.validate();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
        return config;
    }

    private static String argument(String where, String key, String value, OptionSpec option) {
        if (!option.typeInfo().isBoolean()) {
            if (value.isEmpty()) {
                throw new IllegalArgumentException(where + key + " wants a value");
            }
            return "--" + key + "=" + value;
        }
        String v = value.toLowerCase(Locale.ROOT);
        boolean on = switch (v) {
            case "", "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new IllegalArgumentException(where + key + " is on or off, not '" + value + "'");
        };
        if (option.negatable()) {
            return on ? "--" + key : "--no-" + key;
        }
        if (option.arity().max() >= 1) {
            return "--" + key + "=" + on;
        }
        return on ? "--" + key : null; // off is the default of a flag without a value
    }

    private static List<String> args(List<Setting> settings) {
        List<String> out = new ArrayList<>();
        for (Setting s : settings) {
            out.add(s.arg());
        }
        return out;
    }

    private static void parseAll(CommandLine cl, List<String> args) {
        cl.setOverwrittenOptionsAllowed(true);
        cl.parseArgs(args.toArray(new String[0])); // every argument was checked alone already
    }
}
