package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.switchboard.config.GatewayServices;
import io.switchboard.config.ServerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Secrets need not appear on the command line (files, environment), and the defaults refuse to expose the API
 * without a token or warn when clients are not authenticated on a reachable address.
 */
class ServerSecretsTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef-file-secret";

    @TempDir
    Path dir;

    @Test
    void shouldReadTheApiTokenAndJwtSecretFromFiles() throws Exception {
        Path token = write("api-token", "t0ken-from-file\n");
        Path secret = write("jwt-secret", SECRET + "\n");
        ServerConfig c = parse(Map.of(), "--api-token-file=" + token, "--auth=jwt", "--jwt-secret-file=" + secret);
        assertEquals("t0ken-from-file", c.apiToken, "the first line, without its newline");
        assertEquals(SECRET, c.jwtSecret);
        // The secret read from the file is the one tokens are checked against.
        assertNull(GatewayServices.from(c).authenticator().verify("alice", hs256("alice"), System.currentTimeMillis()));
    }

    @Test
    void shouldReadSecretsFromTheEnvironment() throws Exception {
        Map<String, String> env = Map.of("SWITCHBOARD_API_TOKEN", "env-token", "SWITCHBOARD_JWT_SECRET", SECRET);
        ServerConfig c = parse(env, "--auth=jwt");
        assertEquals("env-token", c.apiToken);
        assertEquals(SECRET, c.jwtSecret);
        assertNull(parse(env).jwtSecret, "the JWT secret is taken from the environment only with --auth jwt");
        assertEquals("option-token", parse(env, "--api-token=option-token").apiToken, "an option beats the environment");
    }

    @Test
    void theWebhookGetsItsTokenFromAFileOrTheEnvironmentAndItsSettingsFromTheOptions() throws Exception {
        Path token = write("upstream-token", "hook-t0ken\n");
        ServerConfig c = parse(Map.of(), "--upstream=webhook:http://127.0.0.1:9/hook", "--upstream-token-file=" + token,
                "--upstream-in-flight=1", "--upstream-timeout=3", "--upstream-attempts=2", "--upstream-max-batch=7");
        io.switchboard.upstream.UpstreamSink sink = GatewayServices.from(c).upstream();
        try {
            io.switchboard.upstream.WebhookSink.Options o = ((io.switchboard.upstream.WebhookSink) sink).options();
            assertEquals("hook-t0ken", o.bearerToken());
            assertEquals(1, o.maxInFlightBatches());
            assertEquals(3_000, o.requestTimeoutMs());
            assertEquals(2, o.maxAttempts());
            assertEquals(7, o.maxBatchMessages());
        } finally {
            sink.close();
        }
        assertEquals("env-hook", parse(Map.of("SWITCHBOARD_UPSTREAM_TOKEN", "env-hook"),
                "--upstream=webhook:http://127.0.0.1:9/hook").upstreamToken);
        assertNull(parse(Map.of("SWITCHBOARD_UPSTREAM_TOKEN", "env-hook")).upstreamToken, "only with --upstream");
        assertTrue(refusal(Map.of(), "--upstream-in-flight=0").startsWith("--upstream-in-flight"));
    }

    @Test
    void shouldRefuseAnUnreadableOrEmptySecretFileInOneLine() throws Exception {
        Path missing = dir.resolve("missing");
        assertEquals("--api-token-file: cannot read " + missing + " (no such file)",
                refusal(Map.of(), "--api-token-file=" + missing));
        Path empty = write("empty", "\n");
        assertEquals("--jwt-secret-file: " + empty + " is empty (the secret is its first line)",
                refusal(Map.of(), "--auth=jwt", "--jwt-secret-file=" + empty));
        assertEquals("--api-token and --api-token-file are mutually exclusive: give one",
                refusal(Map.of(), "--api-token=x", "--api-token-file=" + write("t", "y")));
    }

    @Test
    void shouldRefuseAnApiOnAReachableAddressWithoutAToken() throws Exception {
        String message = refusal(Map.of(), "--api-bind=0.0.0.0");
        assertTrue(message.contains("--api-token-file") && message.contains("--api-insecure"), message);
        assertTrue(parse(Map.of(), "--api-bind=0.0.0.0", "--api-insecure").apiInsecure);
        assertEquals("t", parse(Map.of(), "--api-bind=0.0.0.0", "--api-token-file=" + write("t", "t")).apiToken);
        assertEquals("e", parse(Map.of("SWITCHBOARD_API_TOKEN", "e"), "--api-bind=0.0.0.0").apiToken);
        assertNull(parse(Map.of(), "--api-bind=localhost").apiToken, "loopback needs no token");
    }

    @Test
    void shouldNotStartAndSayHowToFixAReachableApiWithoutAToken() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new ServerCommand());
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        int exit = cl.execute("--api-bind=0.0.0.0", "--port=0", "--api-port=0");
        assertEquals(2, exit);
        String out = err.toString();
        assertEquals(1, out.lines().count(), out);
        assertTrue(out.startsWith("switchboard server: --api-bind 0.0.0.0 ") && out.contains("--api-token-file")
                && out.contains("--api-insecure"), out);
    }

    @Test
    void shouldWarnWhenClientsNeedNoAuthOnAReachableAddress() throws Exception {
        String warning = ServerConfig.DEFAULTS.openAuthWarning();
        assertNotNull(warning, "the defaults: --auth none on 0.0.0.0");
        assertTrue(warning.startsWith("--auth none on 0.0.0.0") && !warning.contains("\n"), warning);
        assertNull(parse(Map.of(), "--bind=127.0.0.1").openAuthWarning());
        assertNull(parse(Map.of(), "--auth=jwt", "--jwt-secret-file=" + write("s", SECRET)).openAuthWarning());
    }

    private Path write(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
    }

    private static String hs256(String sub) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), new JWTClaimsSet.Builder().subject(sub)
                .expirationTime(new Date(System.currentTimeMillis() + 600_000)).build());
        jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }

    private static String refusal(Map<String, String> env, String... args) {
        return assertThrows(IllegalArgumentException.class, () -> parse(env, args)).getMessage();
    }

    private static ServerConfig parse(Map<String, String> env, String... args) {
        ServerCommand cmd = new ServerCommand();
        new CommandLine(cmd).parseArgs(args);
        cmd.config.environment = env::get;
        return cmd.toConfig();
    }
}
