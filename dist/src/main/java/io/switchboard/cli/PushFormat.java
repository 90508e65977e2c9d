package io.switchboard.cli;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * How {@code switchboard client} prints one message: its {@code -F} format (as {@code mosquitto_sub -F}), or by
 * default the payload with its line breaks escaped so that one message is always one line. Immutable; compiled
 * once, then used on the client's event loop.
 */
final class PushFormat {
    /** What {@code -F} understands, for its error messages. */
    static final String DIRECTIVES = "%p payload (raw bytes), %x payload as hex, %l payload length, %s seq, "
            + "%i client id, %t topic (empty: SWB/1 messages carry none), %% a percent sign; \\n, \\t and \\\\ "
            + "escapes";
    /** The same for the option's help, where picocli reads % as a format specifier. */
    static final String DIRECTIVES_HELP = "%%p payload (raw bytes), %%x payload as hex, %%l payload length, %%s seq, "
            + "%%i client id, %%t topic (empty: SWB/1 messages carry none), %%%% a percent sign; \\n, \\t and "
            + "\\\\ escapes";

    private sealed interface Part {
    }

    private record Literal(byte[] bytes) implements Part {
    }

    private record Field(char directive) implements Part {
    }

    private final List<Part> parts;
    private final boolean escapeLineBreaks;

    private PushFormat(List<Part> parts, boolean escapeLineBreaks) {
        this.parts = parts;
        this.escapeLineBreaks = escapeLineBreaks;
    }

    /**
     * The default: the payload unchanged except that CR and LF are written as {@code \r} and {@code \n} (so a
     * payload that already holds a backslash followed by n reads the same; -F '%p' or '%x' gives the exact bytes),
     * prefixed with {@code seq=<seq> bytes=<n> } when {@code verbose}.
     */
    static PushFormat lines(boolean verbose) {
        List<Part> parts = new ArrayList<>();
        if (verbose) {
            parts.add(new Literal("seq=".getBytes(StandardCharsets.US_ASCII)));
            parts.add(new Field('s'));
            parts.add(new Literal(" bytes=".getBytes(StandardCharsets.US_ASCII)));
            parts.add(new Field('l'));
            parts.add(new Literal(" ".getBytes(StandardCharsets.US_ASCII)));
        }
        parts.add(new Field('p'));
        return new PushFormat(List.copyOf(parts), true);
    }

    /** Compiles a {@code -F} format; throws IllegalArgumentException naming what it does not understand. */
    static PushFormat parse(String format) {
        List<Part> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' && c != '\\') {
                literal.append(c);
                continue;
            }
            if (i + 1 == format.length()) {
                throw new IllegalArgumentException("'" + c + "' at the end of the format; write " + c + c
                        + " for a literal one");
            }
            char d = format.charAt(++i);
            if (c == '\\') {
                switch (d) {
                    case 'n' -> literal.append('\n');
                    case 't' -> literal.append('\t');
                    case '\\' -> literal.append('\\');
                    default -> throw new IllegalArgumentException("unknown escape \\" + d + " (known: \\n \\t \\\\)");
                }
            } else if (d == '%') {
                literal.append('%');
            } else if ("pxlsit".indexOf(d) >= 0) {
                if (!literal.isEmpty()) {
                    parts.add(new Literal(literal.toString().getBytes(StandardCharsets.UTF_8)));
                    literal.setLength(0);
                }
                parts.add(new Field(d));
            } else {
                throw new IllegalArgumentException("unknown directive %" + d + " (known: " + DIRECTIVES + ")");
            }
        }
        if (!literal.isEmpty()) {
            parts.add(new Literal(literal.toString().getBytes(StandardCharsets.UTF_8)));
        }
        return new PushFormat(List.copyOf(parts), false);
    }

    /** The bytes to print for one message, its trailing line break included. */
    byte[] format(String clientId, long seq, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 32);
        for (Part part : parts) {
            switch (part) {
                case Literal l -> out.writeBytes(l.bytes());
                case Field f -> {
                    switch (f.directive()) {
                        case 'p' -> payload(out, payload);
                        case 'x' -> ascii(out, HexFormat.of().formatHex(payload));
                        case 'l' -> ascii(out, Integer.toString(payload.length));
                        case 's' -> ascii(out, Long.toString(seq));
                        case 'i' -> out.writeBytes(clientId.getBytes(StandardCharsets.UTF_8));
                        default -> { } // %t: SWB/1 messages carry no topic
                    }
                }
            }
        }
        out.write('\n');
        return out.toByteArray();
    }

    private void payload(ByteArrayOutputStream out, byte[] payload) {
        if (!escapeLineBreaks) {
            out.writeBytes(payload);
            return;
        }
        for (byte b : payload) {
            if (b == '\n') {
                ascii(out, "\\n");
            } else if (b == '\r') {
                ascii(out, "\\r");
            } else {
                out.write(b);
            }
        }
    }

    private static void ascii(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
    }
}
