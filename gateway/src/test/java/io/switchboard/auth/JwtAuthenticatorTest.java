package io.switchboard.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JwtAuthenticatorTest {

    private static final long NOW_MS = 1_700_000_000_000L;
    private static final String SECRET = "0123456789abcdef0123456789abcdef-test-secret";
    private static final String CLIENT = "alice";

    private static KeyPair rsa;
    private static KeyPair ec256;

    @TempDir
    Path dir;

    @BeforeAll
    static void generateKeys() throws Exception {
        KeyPairGenerator rsaGen = KeyPairGenerator.getInstance("RSA");
        rsaGen.initialize(2048);
        rsa = rsaGen.generateKeyPair();
        KeyPairGenerator ecGen = KeyPairGenerator.getInstance("EC");
        ecGen.initialize(new ECGenParameterSpec("secp256r1"));
        ec256 = ecGen.generateKeyPair();
    }

    private static JWTClaimsSet.Builder claims(String sub, long expMs) {
        return new JWTClaimsSet.Builder().subject(sub).expirationTime(new Date(expMs)).issueTime(new Date(NOW_MS));
    }

    private static String sign(JWSSigner signer, JWSAlgorithm alg, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).type(JOSEObjectType.JWT).build(), claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    private static String hs256(String secret, JWTClaimsSet claims) throws Exception {
        return sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)), JWSAlgorithm.HS256, claims);
    }

    private Path writePem(String type, byte[] der) throws Exception {
        String pem = "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
        Path file = Files.createTempFile(dir, "key", ".pem");
        Files.writeString(file, pem, StandardCharsets.US_ASCII);
        return file;
    }

    private static JwtAuthenticator hmacAuth() {
        return JwtAuthenticator.fromCli(SECRET, null);
    }

    @Test
    void shouldAcceptValidHs256Token() throws Exception {
        JwtAuthenticator auth = hmacAuth();
        String token = hs256(SECRET, claims(CLIENT, NOW_MS + 60_000).build());

        assertNull(auth.verify(CLIENT, token, NOW_MS));
        assertEquals(1, auth.acceptedCount());
        assertTrue(auth.rejectionsByReason().values().stream().allMatch(v -> v == 0));
    }

    @Test
    void aTokenMadeForAnotherAudienceOrIssuerIsRefused() throws Exception {
        String forBilling = hs256(SECRET, claims(CLIENT, NOW_MS + 60_000).audience("billing-api").build());
        String forUs = hs256(SECRET, claims(CLIENT, NOW_MS + 60_000).audience(List.of("other", "wss://gw.example"))
                .issuer("https://idp.example").build());
        String noAud = hs256(SECRET, claims(CLIENT, NOW_MS + 60_000).build());

        JwtAuthenticator plain = hmacAuth(); // no --jwt-audience: a token naming any audience was made for another
        assertEquals("token names an audience (aud) and this server has none (--jwt-audience)",
                plain.verify(CLIENT, forBilling, NOW_MS));
        assertNull(plain.verify(CLIENT, noAud, NOW_MS));
        assertEquals(1L, plain.rejectionsByReason().get(JwtAuthenticator.WRONG_AUDIENCE));

        JwtAuthenticator ours = hmacAuth().withAudienceAndIssuer("wss://gw.example", "https://idp.example");
        assertEquals("token aud does not name this server", ours.verify(CLIENT, forBilling, NOW_MS));
        assertEquals("token aud does not name this server", ours.verify(CLIENT, noAud, NOW_MS));
        assertNull(ours.verify(CLIENT, forUs, NOW_MS), "one of its audiences is this server");
        String otherIssuer = hs256(SECRET, claims(CLIENT, NOW_MS + 60_000).audience("wss://gw.example")
                .issuer("https://evil.example").build());
        assertEquals("token iss is not this server's issuer", ours.verify(CLIENT, otherIssuer, NOW_MS));
        assertEquals(2L, ours.rejectionsByReason().get(JwtAuthenticator.WRONG_AUDIENCE));
        assertEquals(1L, ours.rejectionsByReason().get(JwtAuthenticator.WRONG_ISSUER));

        JwtAuthenticator any = hmacAuth().withAudienceAndIssuer("*", null); // an operator's explicit choice
        assertNull(any.verify(CLIENT, forBilling, NOW_MS));
        assertNull(any.verify(CLIENT, noAud, NOW_MS));
    }

    @Test
    void shouldRejectANumericSubEvenWhenItsDigitsAreTheClientId() throws Exception {
        JwtAuthenticator auth = hmacAuth();
        String token = hs256(SECRET, new JWTClaimsSet.Builder().claim("sub", 12345)
                .expirationTime(new Date(NOW_MS + 60_000)).build());

        assertEquals("token sub must be a string", auth.verify("12345", token, NOW_MS));
        assertEquals(1L, auth.rejectionsByReason().get(JwtAuthenticator.SUB_MISMATCH));
    }

    @Test
    void shouldTellUntilWhenAnAcceptedTokenIsValid() throws Exception {
        JwtAuthenticator auth = JwtAuthenticator.hmac(SECRET, 5_000, false);
        String expiring = hs256(SECRET, claims(CLIENT, NOW_MS + 60_000).build());
        assertNull(auth.verify(CLIENT, expiring, NOW_MS));
        assertEquals(NOW_MS + 65_000, auth.validUntilMs(expiring), "exp plus the leeway");

        String forever = hs256(SECRET, new JWTClaimsSet.Builder().subject(CLIENT).build());
        assertNull(auth.verify(CLIENT, forever, NOW_MS));
        assertEquals(Long.MAX_VALUE, auth.validUntilMs(forever));
    }

    @Test
    void shouldRejectTokenSignedWithWrongSecret() throws Exception {
        JwtAuthenticator auth = hmacAuth();
        String token = hs256("another-secret-that-is-long-enough-32b", claims(CLIENT, NOW_MS + 60_000).build());

        assertEquals("bad token signature", auth.verify(CLIENT, token, NOW_MS));
        assertEquals(1L, auth.rejectionsByReason().get(JwtAuthenticator.BAD_SIGNATURE));
    }

    @Test
    void shouldRejectExpiredTokenBeyondLeewayButAcceptWithinIt() throws Exception {
        JwtAuthenticator auth = JwtAuthenticator.fromCli(SECRET, null, 30_000, true);
        String token = hs256(SECRET, claims(CLIENT, NOW_MS).build());

        assertNull(auth.verify(CLIENT, token, NOW_MS + 29_999), "within the 30 s leeway");
        assertEquals("token expired", auth.verify(CLIENT, token, NOW_MS + 30_000));
        assertEquals("token expired", auth.verify(CLIENT, token, NOW_MS + 3_600_000));
        assertEquals(2L, auth.rejectionsByReason().get(JwtAuthenticator.EXPIRED));
    }

    @Test
    void shouldRejectExpiredTokenWithZeroLeeway() throws Exception {
        JwtAuthenticator auth = JwtAuthenticator.fromCli(SECRET, null, 0, true);
        String token = hs256(SECRET, claims(CLIENT, NOW_MS).build());

        assertNull(auth.verify(CLIENT, token, NOW_MS - 1));
        assertEquals("token expired", auth.verify(CLIENT, token, NOW_MS));
    }

    @Test
    void shouldRejectTokenWhoseNbfIsInTheFuture() throws Exception {
        JwtAuthenticator auth = hmacAuth();
        String farFuture = hs256(SECRET, claims(CLIENT, NOW_MS + 600_000).notBeforeTime(new Date(NOW_MS + 60_000)).build());
        String withinLeeway = hs256(SECRET, claims(CLIENT, NOW_MS + 600_000).notBeforeTime(new Date(NOW_MS + 20_000)).build());

        assertEquals("token not yet valid", auth.verify(CLIENT, farFuture, NOW_MS));
        assertNull(auth.verify(CLIENT, farFuture, NOW_MS + 60_000));
        assertNull(auth.verify(CLIENT, withinLeeway, NOW_MS));
        assertEquals(1L, auth.rejectionsByReason().get(JwtAuthenticator.NOT_YET_VALID));
    }

    @Test
    void shouldRejectTokenWhoseSubIsAnotherClient() throws Exception {
        JwtAuthenticator auth = hmacAuth();
        String forBob = hs256(SECRET, claims("bob", NOW_MS + 60_000).build());
        String noSub = hs256(SECRET, new JWTClaimsSet.Builder().expirationTime(new Date(NOW_MS + 60_000)).build());

        assertEquals("token sub does not match client id", auth.verify(CLIENT, forBob, NOW_MS));
        assertEquals("token sub does not match client id", auth.verify(CLIENT, noSub, NOW_MS));
        assertNull(auth.verify("bob", forBob, NOW_MS));
        assertEquals(2L, auth.rejectionsByReason().get(JwtAuthenticator.SUB_MISMATCH));
    }

    @Test
    void shouldRejectUnsignedAlgNoneToken() {
        JwtAuthenticator auth = hmacAuth();
        String none = new PlainJWT(claims(CLIENT, NOW_MS + 60_000).build()).serialize();
        // A hand-made variant some libraries accept: alg "none" with an empty third part and a trailing dot.
        String header = Base64.getUrlEncoder().withoutPadding()
                .encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String body = Base64.getUrlEncoder().withoutPadding()
                .encodeToString(("{\"sub\":\"alice\",\"exp\":" + (NOW_MS / 1000 + 60) + "}").getBytes(StandardCharsets.UTF_8));

        assertEquals("unsigned token not accepted", auth.verify(CLIENT, none, NOW_MS));
        assertEquals("unsigned token not accepted", auth.verify(CLIENT, header + "." + body + ".", NOW_MS));
        assertEquals(2L, auth.rejectionsByReason().get(JwtAuthenticator.BAD_ALG));
        assertEquals(0, auth.acceptedCount());
    }

    @Test
    void shouldAcceptRs256AndRs512WithPemPublicKey() throws Exception {
        Path pem = writePem("PUBLIC KEY", rsa.getPublic().getEncoded());
        JwtAuthenticator auth = JwtAuthenticator.fromCli(null, pem.toString());
        JWTClaimsSet c = claims(CLIENT, NOW_MS + 60_000).build();

        assertNull(auth.verify(CLIENT, sign(new RSASSASigner(rsa.getPrivate()), JWSAlgorithm.RS256, c), NOW_MS));
        assertNull(auth.verify(CLIENT, sign(new RSASSASigner(rsa.getPrivate()), JWSAlgorithm.RS512, c), NOW_MS));
        assertEquals(Set.of("RS256", "RS384", "RS512"), auth.acceptedAlgorithms());
    }

    @Test
    void shouldRejectRs256TokenSignedByAnotherRsaKey() throws Exception {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
        gen.initialize(2048);
        KeyPair other = gen.generateKeyPair();
        JwtAuthenticator auth = JwtAuthenticator.fromCli(null, writePem("PUBLIC KEY", rsa.getPublic().getEncoded()).toString());

        String token = sign(new RSASSASigner(other.getPrivate()), JWSAlgorithm.RS256, claims(CLIENT, NOW_MS + 60_000).build());

        assertEquals("bad token signature", auth.verify(CLIENT, token, NOW_MS));
    }

    @Test
    void aPemFileWithTheOldAndTheNewKeyTakesTokensSignedByEitherDuringARotation() throws Exception {
        KeyPairGenerator ecGen = KeyPairGenerator.getInstance("EC");
        ecGen.initialize(new ECGenParameterSpec("secp256r1"));
        java.security.KeyPair next = ecGen.generateKeyPair();
        java.security.KeyPair stranger = ecGen.generateKeyPair();
        Path both = writePem("PUBLIC KEY", ec256.getPublic().getEncoded());
        Files.writeString(both, Files.readString(writePem("PUBLIC KEY", next.getPublic().getEncoded()))
                + Files.readString(writePem("PUBLIC KEY", rsa.getPublic().getEncoded())),
                java.nio.file.StandardOpenOption.APPEND);
        JwtAuthenticator auth = JwtAuthenticator.fromCli(null, both.toString());
        JWTClaimsSet c = claims(CLIENT, NOW_MS + 60_000).build();
        assertNull(auth.verify(CLIENT, sign(new ECDSASigner((ECPrivateKey) ec256.getPrivate()), JWSAlgorithm.ES256, c),
                NOW_MS), "signed by the old key");
        assertNull(auth.verify(CLIENT, sign(new ECDSASigner((ECPrivateKey) next.getPrivate()), JWSAlgorithm.ES256, c),
                NOW_MS), "signed by the new key");
        assertNull(auth.verify(CLIENT, sign(new com.nimbusds.jose.crypto.RSASSASigner(rsa.getPrivate()),
                JWSAlgorithm.RS256, c), NOW_MS), "signed by the RSA key beside them");
        assertEquals("bad token signature", auth.verify(CLIENT, sign(new ECDSASigner(
                (ECPrivateKey) stranger.getPrivate()), JWSAlgorithm.ES256, c), NOW_MS), "a key not in the file");
        assertEquals(Set.of("ES256", "RS256", "RS384", "RS512"), auth.acceptedAlgorithms());
        assertEquals("token algorithm not accepted", auth.verify(CLIENT, hs256(SECRET, c), NOW_MS));
    }

    @Test
    void shouldAcceptEs256WithPemPublicKey() throws Exception {
        Path pem = writePem("PUBLIC KEY", ec256.getPublic().getEncoded());
        JwtAuthenticator auth = JwtAuthenticator.fromCli(null, pem.toString());
        String token = sign(new ECDSASigner((ECPrivateKey) ec256.getPrivate()), JWSAlgorithm.ES256,
                claims(CLIENT, NOW_MS + 60_000).build());

        assertNull(auth.verify(CLIENT, token, NOW_MS));
        assertEquals(Set.of("ES256"), auth.acceptedAlgorithms());
        // Flip one signature character: must no longer verify.
        int last = token.length() - 2;
        String tampered = token.substring(0, last) + (token.charAt(last) == 'A' ? 'B' : 'A') + token.substring(last + 1);
        assertEquals("bad token signature", auth.verify(CLIENT, tampered, NOW_MS));
    }

    @Test
    void shouldRejectRs256TokenWhenConfiguredKeyIsEc() throws Exception {
        JwtAuthenticator auth = JwtAuthenticator.fromCli(null, writePem("PUBLIC KEY", ec256.getPublic().getEncoded()).toString());
        String token = sign(new RSASSASigner(rsa.getPrivate()), JWSAlgorithm.RS256, claims(CLIENT, NOW_MS + 60_000).build());

        assertEquals("token algorithm not accepted", auth.verify(CLIENT, token, NOW_MS));
        assertEquals(1L, auth.rejectionsByReason().get(JwtAuthenticator.BAD_ALG));
    }

    @Test
    void shouldRejectHs256TokenKeyedWithTheRsaPublicKey() throws Exception {
        Path pem = writePem("PUBLIC KEY", rsa.getPublic().getEncoded());
        JwtAuthenticator auth = JwtAuthenticator.fromCli(null, pem.toString());
        // Classic algorithm confusion: HMAC "signed" with the server's public key as the shared secret.
        String token = sign(new MACSigner(Files.readAllBytes(pem)), JWSAlgorithm.HS256, claims(CLIENT, NOW_MS + 60_000).build());

        assertEquals("token algorithm not accepted", auth.verify(CLIENT, token, NOW_MS));
    }

    @Test
    void shouldRejectMissingToken() {
        JwtAuthenticator auth = hmacAuth();

        assertEquals("token required", auth.verify(CLIENT, null, NOW_MS));
        assertEquals("token required", auth.verify(CLIENT, "", NOW_MS));
        assertEquals(2L, auth.rejectionsByReason().get(JwtAuthenticator.MISSING));
    }

    @Test
    void shouldRejectMalformedToken() throws Exception {
        JwtAuthenticator auth = hmacAuth();
        String valid = hs256(SECRET, claims(CLIENT, NOW_MS + 60_000).build());

        assertEquals("malformed token", auth.verify(CLIENT, "not-a-jwt", NOW_MS));
        assertEquals("malformed token", auth.verify(CLIENT, "a.b.c", NOW_MS));
        assertEquals("malformed token", auth.verify(CLIENT, valid.substring(1), NOW_MS));
        assertEquals(3L, auth.rejectionsByReason().get(JwtAuthenticator.MALFORMED));
        assertEquals(0, auth.acceptedCount());
    }

    @Test
    void shouldRejectTokenWithoutExpUnlessExpIsOptional() throws Exception {
        String token = hs256(SECRET, new JWTClaimsSet.Builder().subject(CLIENT).build());

        JwtAuthenticator strict = hmacAuth();
        assertEquals("token has no exp", strict.verify(CLIENT, token, NOW_MS));
        assertEquals(1L, strict.rejectionsByReason().get(JwtAuthenticator.NO_EXP));

        JwtAuthenticator lenient = JwtAuthenticator.fromCli(SECRET, null, JwtAuthenticator.DEFAULT_LEEWAY_MS, false);
        assertNull(lenient.verify(CLIENT, token, NOW_MS));
    }

    @Test
    void shouldExposeEveryReasonKeyEvenWhenZero() {
        Map<String, Long> reasons = hmacAuth().rejectionsByReason();

        assertEquals(List.of("missing", "malformed", "bad_alg", "bad_signature", "expired", "not_yet_valid",
                "no_exp", "sub_mismatch", "wrong_audience", "wrong_issuer"), List.copyOf(reasons.keySet()));
    }

    @Test
    void shouldRefuseShortSecretWithActionableMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JwtAuthenticator.fromCli("short-secret", null));
        assertTrue(e.getMessage().startsWith("--jwt-secret: too short (12 bytes)"), e.getMessage());
    }

    @Test
    void shouldRefuseMissingKeyFileWithActionableMessage() {
        Path missing = dir.resolve("nope.pem");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JwtAuthenticator.fromCli(null, missing.toString()));
        assertEquals("--jwt-public-key " + missing + ": file not found", e.getMessage());
    }

    @Test
    void shouldRefusePrivateKeyPemAndGarbageFile() throws Exception {
        Path priv = writePem("PRIVATE KEY", rsa.getPrivate().getEncoded());
        IllegalArgumentException e1 = assertThrows(IllegalArgumentException.class,
                () -> JwtAuthenticator.fromCli(null, priv.toString()));
        assertTrue(e1.getMessage().contains("holds a private key"), e1.getMessage());

        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "hello\n");
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> JwtAuthenticator.fromCli(null, garbage.toString()));
        assertTrue(e2.getMessage().contains("no PEM block found"), e2.getMessage());

        Path corrupt = writePem("PUBLIC KEY", new byte[] {1, 2, 3, 4});
        IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class,
                () -> JwtAuthenticator.fromCli(null, corrupt.toString()));
        assertTrue(e3.getMessage().contains("not an RSA or EC public key"), e3.getMessage());
    }

    @Test
    void shouldRefuseWeakRsaKey() throws Exception {
        KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
        gen.initialize(1024);
        Path pem = writePem("PUBLIC KEY", gen.generateKeyPair().getPublic().getEncoded());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JwtAuthenticator.fromCli(null, pem.toString()));
        assertTrue(e.getMessage().contains("RSA key has 1024 bits"), e.getMessage());
    }

    @Test
    void shouldRefuseBothOrNeitherKeySource() {
        assertThrows(IllegalArgumentException.class, () -> JwtAuthenticator.fromCli(SECRET, "/some/file.pem"));
        assertThrows(IllegalArgumentException.class, () -> JwtAuthenticator.fromCli(null, null));
        assertThrows(IllegalArgumentException.class, () -> JwtAuthenticator.fromCli(SECRET, null, -1, true));
    }
}
