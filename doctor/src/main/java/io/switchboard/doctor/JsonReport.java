package io.switchboard.doctor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;

/**
 * Renders a {@link Report} as JSON in the shape documented in {@code docs/doctor.md}
 * (version {@link #FORMAT_VERSION}). Stateless; the mapper is thread-safe.
 */
final class JsonReport {
    /** Bumped when a field changes meaning or disappears; adding fields keeps it. */
    static final int FORMAT_VERSION = 1;
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonReport() {
    }

    static ObjectNode tree(Report report) {
        ObjectNode root = MAPPER.createObjectNode();
        Request req = report.request();
        root.put("formatVersion", FORMAT_VERSION);
        root.put("role", req.role().cliName());
        root.put("target", req.target());
        if (req.pid() == 0) {
            root.putNull("pid");
        } else {
            root.put("pid", req.pid());
        }
        root.put("sources", req.sources());
        root.put("destinations", req.destinations());
        // Absolute, as the check reports it; null when the role has no data directory.
        root.put("dataDir", req.dataDir() == null ? null : DataDirCheck.absolute(req.dataDir()).toString());
        root.put("reachable", report.reachable());
        if (report.maxConnections().isPresent()) {
            root.put("maxConnections", report.maxConnections().getAsLong());
        } else {
            root.putNull("maxConnections");
        }
        root.put("firstLimit", report.firstLimit().map(CheckResult::id).orElse(null));
        root.put("headline", report.headline());
        Privilege p = report.privilege();
        ObjectNode priv = root.putObject("privilege");
        priv.put("root", p.root());
        priv.put("uid", p.uid());
        priv.put("capSysResource", p.sysResource());
        priv.put("container", p.container());
        priv.put("containerEvidence", p.containerEvidence());
        priv.put("procSysReadOnly", p.procSysReadOnly());
        priv.put("userNamespace", p.userNamespace());
        ArrayNode checks = root.putArray("checks");
        for (CheckResult c : report.checks()) {
            ObjectNode n = checks.addObject();
            n.put("id", c.id());
            n.put("name", c.name());
            n.put("status", c.status().label());
            n.put("current", c.current());
            if (c.allows() == null) {
                n.putNull("allows");
            } else {
                n.put("allows", c.allows());
            }
            n.set("values", MAPPER.valueToTree(c.values()));
            n.put("detail", c.detail());
            n.put("cannotRaise", c.cannotRaise());
            ArrayNode fixes = n.putArray("fixes");
            for (Fix f : c.fixes()) {
                ObjectNode fx = fixes.addObject();
                fx.put("kind", f.kind().label());
                fx.put("where", f.where());
                fx.put("text", f.text());
                fx.put("apply", f.apply());
            }
        }
        return root;
    }

    static String render(Report report) {
        try {
            return MAPPER.writeValueAsString(tree(report));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
