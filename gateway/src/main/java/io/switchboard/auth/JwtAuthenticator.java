package io.switchboard.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * Verifies {@code HELLO token=} values as signed JWTs (JWS compact form) with nimbus-jose-jwt.
 *
 * <p>One key per server: an HS256 shared secret, or an RSA or EC public key from a PEM file. The accepted
 * algorithm set is derived from the key alone (HS256; RS256/RS384/RS512 for RSA; the one ES algorithm of
 * the EC key's curve), never from the token, so {@code alg: none} and algorithm confusion (e.g. an HMAC
 * token "signed" with the RSA public key) are rejected. Accepted tokens must be signed, have {@code sub}
 * equal to the client id, and (by default) carry an {@code exp} that has not passed; {@code nbf} is
 * honoured when present. Both time checks allow {@link #leewayMs()} of clock skew.
 *
 * <p>Immutable apart from its counters; thread-safe; {@link #verify} does only CPU work (parse and one
 * signature check) and caches nothing, so it is safe on an event loop.
 */
public final class JwtAuthenticator implements Authenticator {

    /** Default clock-skew allowance for {@code exp} and {@code nbf}. */
    public static final long DEFAULT_LEEWAY_MS = 30_000;
    /** Upper bound for the leeway setting: more than this would make {@code exp} meaningless. */
    public static final long MAX_LEEWAY_MS = 600_000;
    /** HS256 needs a secret at least as long as its output (RFC 7518 section 3.2). */
    public static final int MIN_SECRET_BYTES = 32;
    /** RSA keys shorter than this are refused when loading (RFC 7518 section 3.3). */
    public static final int MIN_RSA_BITS = 2048;

    /** Rejection reason keys of {@link #rejectionsByReason()}, in a fixed order. */
    public static final String MISSING = "missing";
    public static final String MALFORMED = "malformed";
    public static final String BAD_ALG = "bad_alg";
    public static final String BAD_SIGNATURE = "bad_signature";
    public static final String EXPIRED = "expired";
    public static final String NOT_YET_VALID = "not_yet_valid";
    public static final String NO_EXP = "no_exp";
    public static final String SUB_MISMATCH = "sub_mismatch";
    public static final String WRONG_AUDIENCE = "wrong_audience";
    public static final String WRONG_ISSUER = "wrong_issuer";

    private static final String[] REASON_KEYS = {
        MISSING, MALFORMED, BAD_ALG, BAD_SIGNATURE, EXPIRED, NOT_YET_VALID, NO_EXP, SUB_MISMATCH, WRONG_AUDIENCE,
        WRONG_ISSUER
    };

    /** One key a token may be signed with, and the algorithms derived from it. */
    private record Key(JWSVerifier verifier, Set<JWSAlgorithm> algs, String description) {
    }

    /** The keys (several during a rotation: a token signed by any of them is taken). */
    private final java.util.List<Key> keys;
    private final Set<JWSAlgorithm> allowedAlgs;
    private final String keyDescription;
    private final long leewayMs;
    private final boolean requireExp;
    /** {@code --jwt-audience *}: a token's {@code aud} is not checked (tokens of an identity provider for many services). */
    public static final String ANY_AUDIENCE = "*";
    /** What {@code aud} must name ({@code --jwt-audience}), or null: a token must have no {@code aud}. */
    private final String audience;
    /** What {@code iss} must be ({@code --jwt-issuer}), or null: not checked. */
    private final String issuer;

    private final LongAdder accepted = new LongAdder();
    private final LongAdder missing = new LongAdder();
    private final LongAdder malformed = new LongAdder();
    private final LongAdder badAlg = new LongAdder();
    private final LongAdder badSignature = new LongAdder();
    private final LongAdder expired = new LongAdder();
    private final LongAdder notYetValid = new LongAdder();
    private final LongAdder noExp = new LongAdder();
    private final LongAdder subMismatch = new LongAdder();
    private final LongAdder wrongAudience = new LongAdder();
    private final LongAdder wrongIssuer = new LongAdder();

    private JwtAuthenticator(JWSVerifier verifier, Set<JWSAlgorithm> allowedAlgs, String keyDescription,
                             long leewayMs, boolean requireExp) {
        this(java.util.List.of(new Key(verifier, allowedAlgs, keyDescription)), leewayMs, requireExp, null, null);
    }

    private JwtAuthenticator(java.util.List<Key> keys, long leewayMs, boolean requireExp, String audience,
                             String issuer) {
        this.keys = java.util.List.copyOf(keys);
        this.allowedAlgs = keys.stream().flatMap(k -> k.algs().stream()).collect(Collectors.toUnmodifiableSet());
        this.keyDescription = keys.stream().map(Key::description).collect(Collectors.joining(" or "));
        this.leewayMs = leewayMs;
        this.requireExp = requireExp;
        this.audience = audience;
        this.issuer = issuer;
    }

    /**
     * The same key and checks, and the token's {@code aud} must name {@code audience} ({@code --jwt-audience}; null:
     * a token must carry no {@code aud}, RFC 7519 4.1.3: a token made for another service is not taken here), and its
     * {@code iss} must be {@code issuer} ({@code --jwt-issuer}; null: not checked). Counters start at zero.
     */
    public JwtAuthenticator withAudienceAndIssuer(String audience, String issuer) {
        return new JwtAuthenticator(keys, leewayMs, requireExp,
                audience == null || audience.isBlank() ? null : audience.strip(),
                issuer == null || issuer.isBlank() ? null : issuer.strip());
    }

    /**
     * HS256 with a shared secret.
     *
     * @param secret     the shared secret; its UTF-8 encoding must be at least {@value #MIN_SECRET_BYTES} bytes
     * @param leewayMs   clock-skew allowance for {@code exp}/{@code nbf}, 0 to {@value #MAX_LEEWAY_MS}
     * @param requireExp whether tokens without {@code exp} are rejected
     * @throws IllegalArgumentException with an operator-facing one-line message
     */
    public static JwtAuthenticator hmac(String secret, long leewayMs, boolean requireExp) {
        if (secret == null || secret.isEmpty()) {
            throw new IllegalArgumentException("--jwt-secret: empty secret");
        }
        byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
        if (bytes.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("--jwt-secret: too short (" + bytes.length + " bytes); HS256 needs at least "
                    + MIN_SECRET_BYTES + " bytes, e.g. the output of 'openssl rand -hex 32'");
        }
        checkLeeway(leewayMs);
        try {
            return new JwtAuthenticator(new MACVerifier(bytes), Set.of(JWSAlgorithm.HS256), "HS256 secret",
                    leewayMs, requireExp);
        } catch (JOSEException e) {
            throw new IllegalArgumentException("--jwt-secret: unusable (" + e.getMessage() + ")", e);
        }
    }

    /**
     * A public key: RSA accepts RS256/RS384/RS512, EC accepts the ES algorithm of its curve (P-256 ES256,
     * P-384 ES384, P-521 ES512).
     *
     * @throws IllegalArgumentException if the key is of another type, an RSA key is shorter than
     *                                  {@value #MIN_RSA_BITS} bits, the curve is unsupported, or the leeway is out of range
     */
    public static JwtAuthenticator publicKey(PublicKey key, long leewayMs, boolean requireExp) {
        return publicKey(key, "public key", leewayMs, requireExp);
    }

    /**
     * Reads a PEM public key ({@code -----BEGIN PUBLIC KEY-----}, or an X.509 certificate) and builds
     * {@link #publicKey(PublicKey, long, boolean)}. Reads the file now, never again.
     */
    public static JwtAuthenticator publicKeyFile(Path pemFile, long leewayMs, boolean requireExp) {
        String label = "--jwt-public-key " + pemFile;
        java.util.List<PublicKey> found = PemKeys.readPublicKeys(pemFile, label);
        java.util.List<Key> all = new java.util.ArrayList<>();
        for (PublicKey k : found) {
            all.addAll(publicKey(k, label, leewayMs, requireExp).keys);
        }
        return new JwtAuthenticator(all, leewayMs, requireExp, null, null);
    }

    /**
     * Turns command-line values into an authenticator: exactly one of {@code jwtSecret} and
     * {@code jwtPublicKeyFile} must be given.
     *
     * @param jwtSecret        {@code --jwt-secret}, or {@code null}
     * @param jwtPublicKeyFile {@code --jwt-public-key}, or {@code null}
     * @param leewayMs         clock-skew allowance, e.g. {@link #DEFAULT_LEEWAY_MS}
     * @param requireExp       reject tokens without {@code exp} (recommended: {@code true})
     * @throws IllegalArgumentException with a one-line message naming the option at fault
     */
    public static JwtAuthenticator fromCli(String jwtSecret, String jwtPublicKeyFile, long leewayMs,
                                           boolean requireExp) {
        boolean hasSecret = jwtSecret != null && !jwtSecret.isEmpty();
        boolean hasKey = jwtPublicKeyFile != null && !jwtPublicKeyFile.isBlank();
        if (hasSecret && hasKey) {
            throw new IllegalArgumentException("--jwt-secret and --jwt-public-key are mutually exclusive: give one");
        }
        if (!hasSecret && !hasKey) {
            throw new IllegalArgumentException("JWT authentication needs --jwt-secret-file FILE (or "
                    + "SWITCHBOARD_JWT_SECRET) or --jwt-public-key FILE");
        }
        if (hasSecret) {
            return hmac(jwtSecret, leewayMs, requireExp);
        }
        Path path;
        try {
            path = Path.of(jwtPublicKeyFile);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--jwt-public-key " + jwtPublicKeyFile + ": not a valid path", e);
        }
        return publicKeyFile(path, leewayMs, requireExp);
    }

    /** {@link #fromCli(String, String, long, boolean)} with a 30 s leeway and {@code exp} required. */
    public static JwtAuthenticator fromCli(String jwtSecret, String jwtPublicKeyFile) {
        return fromCli(jwtSecret, jwtPublicKeyFile, DEFAULT_LEEWAY_MS, true);
    }

    private static JwtAuthenticator publicKey(PublicKey key, String label, long leewayMs, boolean requireExp) {
        checkLeeway(leewayMs);
        if (key instanceof RSAPublicKey rsa) {
            int bits = rsa.getModulus().bitLength();
            if (bits < MIN_RSA_BITS) {
                throw new IllegalArgumentException(label + ": RSA key has " + bits + " bits; at least "
                        + MIN_RSA_BITS + " are required");
            }
            return new JwtAuthenticator(new RSASSAVerifier(rsa),
                    Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512),
                    "RSA-" + bits + " key (RS256/RS384/RS512)", leewayMs, requireExp);
        }
        if (key instanceof ECPublicKey ec) {
            Curve curve = Curve.forECParameterSpec(ec.getParams());
            JWSAlgorithm alg;
            if (Curve.P_256.equals(curve)) {
                alg = JWSAlgorithm.ES256;
            } else if (Curve.P_384.equals(curve)) {
                alg = JWSAlgorithm.ES384;
            } else if (Curve.P_521.equals(curve)) {
                alg = JWSAlgorithm.ES512;
            } else {
                throw new IllegalArgumentException(label + ": unsupported EC curve "
                        + (curve == null ? "(unknown)" : curve.getName()) + "; use P-256, P-384 or P-521");
            }
            try {
                return new JwtAuthenticator(new ECDSAVerifier(ec), Set.of(alg),
                        "EC " + curve.getName() + " key (" + alg.getName() + ")", leewayMs, requireExp);
            } catch (JOSEException e) {
                throw new IllegalArgumentException(label + ": unusable EC key (" + e.getMessage() + ")", e);
            }
        }
        throw new IllegalArgumentException(label + ": unsupported key type "
                + (key == null ? "null" : key.getAlgorithm()) + "; need an RSA or EC public key");
    }

    private static void checkLeeway(long leewayMs) {
        if (leewayMs < 0 || leewayMs > MAX_LEEWAY_MS) {
            throw new IllegalArgumentException("JWT leeway must be between 0 and " + MAX_LEEWAY_MS
                    + " ms, got " + leewayMs);
        }
    }

    @Override
    public String verify(String clientId, String token, long nowMs) {
        if (token == null || token.isEmpty()) {
            missing.increment();
            return "token required";
        }
        JWT jwt;
        try {
            jwt = JWTParser.parse(token);
        } catch (ParseException | RuntimeException e) {
            malformed.increment();
            return "malformed token";
        }
        if (!(jwt instanceof SignedJWT signed)) {
            // PlainJWT is "alg":"none"; EncryptedJWT is JWE, which this server does not decrypt.
            badAlg.increment();
            return jwt instanceof PlainJWT ? "unsigned token not accepted" : "token must be a signed JWT";
        }
        if (!allowedAlgs.contains(signed.getHeader().getAlgorithm())) {
            badAlg.increment();
            return "token algorithm not accepted";
        }
        boolean valid = false;
        JWSAlgorithm alg = signed.getHeader().getAlgorithm();
        for (Key k : keys) {
            if (!valid && k.algs().contains(alg)) {
                try {
                    valid = signed.verify(k.verifier());
                } catch (JOSEException | RuntimeException e) {
                    valid = false;
                }
            }
        }
        if (!valid) {
            badSignature.increment();
            return "bad token signature";
        }
        JWTClaimsSet claims;
        try {
            claims = signed.getJWTClaimsSet();
        } catch (ParseException | RuntimeException e) {
            malformed.increment();
            return "malformed token claims";
        }
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            if (requireExp) {
                noExp.increment();
                return "token has no exp";
            }
        } else if (nowMs - exp.getTime() >= leewayMs) {
            expired.increment();
            return "token expired";
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && nbf.getTime() - nowMs > leewayMs) {
            notYetValid.increment();
            return "token not yet valid";
        }
        // The claims parser turns a numeric sub into a string; the raw claim tells: only a string names a client.
        Object sub = signed.getPayload().toJSONObject().get("sub");
        if (sub != null && !(sub instanceof String)) {
            subMismatch.increment();
            return "token sub must be a string";
        }
        if (!clientId.equals(sub)) {
            subMismatch.increment();
            return "token sub does not match client id";
        }
        java.util.List<String> aud = claims.getAudience();
        if (!ANY_AUDIENCE.equals(audience) && (audience == null ? !aud.isEmpty() : !aud.contains(audience))) {
            wrongAudience.increment();
            return audience == null ? "token names an audience (aud) and this server has none (--jwt-audience)"
                    : "token aud does not name this server";
        }
        if (issuer != null && !issuer.equals(claims.getIssuer())) {
            wrongIssuer.increment();
            return "token iss is not this server's issuer";
        }
        accepted.increment();
        return null;
    }

    /** {@code exp} plus the leeway of a token {@link #verify} accepted; {@link Long#MAX_VALUE} without {@code exp}. */
    @Override
    public long validUntilMs(String token) {
        try {
            Date exp = JWTParser.parse(token).getJWTClaimsSet().getExpirationTime();
            return exp == null ? Long.MAX_VALUE : exp.getTime() + leewayMs;
        } catch (ParseException | RuntimeException e) {
            return 0; // unreachable for an accepted token; expired is the safe answer
        }
    }

    /**
     * Rejections so far by reason, with every key of the fixed set present (zero when none): {@code missing},
     * {@code malformed}, {@code bad_alg}, {@code bad_signature}, {@code expired}, {@code not_yet_valid},
     * {@code no_exp}, {@code sub_mismatch}, {@code wrong_audience}, {@code wrong_issuer}. A fresh unmodifiable
     * snapshot on each call.
     */
    public Map<String, Long> rejectionsByReason() {
        LongAdder[] adders = {missing, malformed, badAlg, badSignature, expired, notYetValid, noExp, subMismatch,
            wrongAudience, wrongIssuer};
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < REASON_KEYS.length; i++) {
            out.put(REASON_KEYS[i], adders[i].sum());
        }
        return Collections.unmodifiableMap(out);
    }

    /** Tokens accepted so far. */
    public long acceptedCount() {
        return accepted.sum();
    }

    public long leewayMs() {
        return leewayMs;
    }

    public boolean requireExp() {
        return requireExp;
    }

    /** The accepted algorithm names, e.g. {@code [ES256]}, for startup logs and {@code doctor}. */
    public Set<String> acceptedAlgorithms() {
        return allowedAlgs.stream().map(JWSAlgorithm::getName).collect(Collectors.toUnmodifiableSet());
    }

    /** E.g. "EC P-256 key (ES256)"; never contains secret material. */
    @Override
    public String toString() {
        return "JwtAuthenticator[" + keyDescription + ", leeway " + leewayMs + " ms, exp "
                + (requireExp ? "required" : "optional") + ", aud " + (audience == null
                ? "refused (no --jwt-audience)" : ANY_AUDIENCE.equals(audience) ? "any" : "must name " + audience)
                + (issuer == null ? "" : ", iss must be " + issuer) + "]";
    }
}
