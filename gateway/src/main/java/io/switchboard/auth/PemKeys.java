package io.switchboard.auth;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a public key from a PEM file with the JDK's own key factories (the PEM armour is just base64 around
 * DER). Called once at startup; blocking I/O is fine here. Every failure is an {@link IllegalArgumentException}
 * whose one-line message starts with the caller's label (e.g. {@code "--jwt-public-key /etc/k.pem"}).
 */
final class PemKeys {

    /** Refuse absurd files early: a 16 kbit RSA public key in PEM is about 3 KB, a certificate chain a few more. */
    private static final long MAX_FILE_BYTES = 1 << 20;

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)\\s*-----END \\1-----");

    private PemKeys() {}

    static PublicKey readPublicKey(Path file, String label) {
        return parsePublicKey(readText(file, label), label);
    }

    /**
     * Every public key of {@code file} (PUBLIC KEY and CERTIFICATE blocks, in order): during a key rotation the old
     * and the new one. At least one, else as {@link #readPublicKey}.
     */
    static java.util.List<PublicKey> readPublicKeys(Path file, String label) {
        String text = readText(file, label);
        java.util.List<PublicKey> keys = new java.util.ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            switch (m.group(1)) {
                case "PUBLIC KEY" -> keys.add(decodeSpki(base64(m.group(2), label), label));
                case "CERTIFICATE" -> keys.add(decodeCertificate(base64(m.group(2), label), label));
                default -> {
                }
            }
        }
        if (keys.isEmpty()) {
            keys.add(parsePublicKey(text, label)); // throws, saying what the file holds instead
        }
        return keys;
    }

    private static String readText(Path file, String label) {
        String text;
        try {
            if (Files.isDirectory(file)) {
                throw new IllegalArgumentException(label + ": is a directory, expected a PEM file");
            }
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new IllegalArgumentException(label + ": larger than 1 MiB, not a PEM public key");
            }
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(label + ": file not found", e);
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException(label + ": permission denied", e);
        } catch (IOException e) {
            throw new IllegalArgumentException(label + ": cannot read (" + e + ")", e);
        }
        return text;
    }

    static PublicKey parsePublicKey(String pem, String label) {
        Matcher m = BLOCK.matcher(pem);
        String sawOther = null;
        while (m.find()) {
            String type = m.group(1);
            switch (type) {
                case "PUBLIC KEY":
                    return decodeSpki(base64(m.group(2), label), label);
                case "CERTIFICATE":
                    return decodeCertificate(base64(m.group(2), label), label);
                default:
                    if (sawOther == null) {
                        sawOther = type;
                    }
            }
        }
        if (sawOther == null) {
            throw new IllegalArgumentException(label + ": no PEM block found; expected -----BEGIN PUBLIC KEY-----");
        }
        if (sawOther.contains("PRIVATE KEY")) {
            throw new IllegalArgumentException(label + ": holds a private key (" + sawOther
                    + "); give the public key instead, e.g. 'openssl pkey -in key.pem -pubout'");
        }
        if (sawOther.equals("RSA PUBLIC KEY")) {
            throw new IllegalArgumentException(label + ": PKCS#1 'RSA PUBLIC KEY' is not supported; convert it with "
                    + "'openssl rsa -RSAPublicKey_in -in FILE -pubout'");
        }
        throw new IllegalArgumentException(label + ": unexpected PEM block '" + sawOther
                + "'; expected -----BEGIN PUBLIC KEY-----");
    }

    private static byte[] base64(String body, String label) {
        try {
            return Base64.getMimeDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(label + ": invalid base64 inside the PEM block", e);
        }
    }

    private static PublicKey decodeSpki(byte[] der, String label) {
        X509EncodedKeySpec spec = new X509EncodedKeySpec(der);
        for (String algorithm : new String[] {"RSA", "EC"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePublic(spec);
            } catch (GeneralSecurityException | RuntimeException e) {
                // Not this algorithm: try the next one.
            }
        }
        throw new IllegalArgumentException(label + ": not an RSA or EC public key (unsupported type or corrupt DER)");
    }

    private static PublicKey decodeCertificate(byte[] der, String label) {
        try {
            return CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der))
                    .getPublicKey();
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException(label + ": unreadable X.509 certificate (" + e.getMessage() + ")", e);
        }
    }
}
