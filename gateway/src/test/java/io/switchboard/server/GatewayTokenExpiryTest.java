package io.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.switchboard.auth.JwtAuthenticator;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A JWT session lives only as long as its token (exp plus leeway): it is closed with {@code BYE 401 token expired}
 * unless the client sends a fresh token with {@code AUTH}. Real sockets; time moves with the manual clock.
 */
@Timeout(30)
class GatewayTokenExpiryTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef-expiry-test";
    private static final long LEEWAY_MS = 5_000;
    private final GatewayFixture gw = new GatewayFixture();

    @BeforeEach
    void jwtAuth() throws InterruptedException {
        gw.authenticator = JwtAuthenticator.hmac(SECRET, LEEWAY_MS, true);
        gw.start();
    }

    @AfterEach
    void closeGateway() {
        gw.close();
    }

    @Test
    void shouldCloseTheSessionWhenItsTokenExpires() throws Exception {
        SwbTestClient c = gw.connect();
        c.hello("alice", "hb=3600", "token=" + token("alice", 60)); // no idle deadline before the token's
        gw.advanceSec(64); // exp + 4 s: within the leeway
        c.sync();
        gw.advanceSec(1);
        assertEquals("BYE 401 token expired", c.readLine());
        c.expectEof();
        gw.assertRefusals("token_expired", 1);
        gw.assertRefusals("idle_timeout", 0);
    }

    @Test
    void shouldKeepTheSessionWhileTheClientRenewsItsToken() throws Exception {
        SwbTestClient c = gw.connect();
        c.hello("alice", "hb=3600", "token=" + token("alice", 60));
        gw.advanceSec(50);
        c.send("AUTH " + token("alice", 120)); // valid until 50 + 120 + 5 s
        assertEquals("OK AUTH", c.readLine());
        gw.advanceSec(100);
        c.sync();
        assertEquals(200, gw.push("alice", "still here").status());
        assertEquals("still here", c.readMsg().text());
        gw.advanceSec(24);
        c.sync();
        gw.advanceSec(1);
        assertEquals("BYE 401 token expired", c.readLine());
        c.expectEof();
    }

    @Test
    void shouldCloseWhenTheFreshTokenIsForAnotherClient() throws Exception {
        SwbTestClient c = gw.connect();
        c.hello("alice", "token=" + token("alice", 60));
        c.send("AUTH " + token("mallory", 600));
        assertEquals("BYE 401 token sub does not match client id", c.readLine());
        c.expectEof();
        gw.assertRefusals("auth_failed", 1);
    }

    @Test
    void shouldCloseWhenTheFreshTokenIsInvalid() throws Exception {
        SwbTestClient c = gw.connect();
        c.hello("alice", "token=" + token("alice", 60));
        gw.advanceSec(30);
        c.send("AUTH " + token("alice", 10).replace('.', '_'));
        assertEquals("BYE 401 malformed token", c.readLine());
        c.expectEof();
    }

    /** A token for {@code sub} that expires {@code inSec} seconds after the manual clock's now. */
    private String token(String sub, long inSec) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), new JWTClaimsSet.Builder().subject(sub)
                .expirationTime(new Date(gw.clock.nowMs() + inSec * 1000)).build());
        jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }
}
