package io.switchboard.config;

import io.switchboard.auth.Authenticator;
import io.switchboard.auth.JwtAuthenticator;
import io.switchboard.clock.Clock;
import io.switchboard.upstream.UpstreamSink;
import io.switchboard.upstream.UpstreamSinks;
import io.switchboard.upstream.WebhookSink;
import java.util.Objects;

/**
 * What the gateway calls out to, passed beside its {@link ServerConfig}: who may connect, where client SENDs go,
 * and the time. Tests inject their own; {@link #from(ServerConfig)} makes the ones the settings name. Immutable;
 * each service is thread-safe. The gateway closes {@link #upstream} when it stops.
 */
public record GatewayServices(Authenticator authenticator, UpstreamSink upstream, Clock clock) {
    public GatewayServices {
        Objects.requireNonNull(authenticator, "authenticator");
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(clock, "clock");
    }

    /** No authentication, no upstream (SENDs get NACK 503), on {@code clock}. */
    public static GatewayServices none(Clock clock) {
        return new GatewayServices(Authenticator.NONE, UpstreamSink.NONE, clock);
    }

    /**
     * The services {@code config} names ({@code --auth}, {@code --jwt-*}, {@code --upstream}) on the system clock.
     * Throws {@link IllegalArgumentException} naming the option at fault.
     */
    public static GatewayServices from(ServerConfig config) {
        Authenticator authenticator = config.auth.equals("jwt")
                ? JwtAuthenticator.fromCli(config.jwtSecret, config.jwtPublicKey, config.jwtLeewaySec * 1000L, true)
                        .withAudienceAndIssuer(config.jwtAudience, config.jwtIssuer)
                : Authenticator.NONE;
        return new GatewayServices(authenticator, UpstreamSinks.parse(config.upstreamUrl, upstreamOptions(config)),
                Clock.SYSTEM);
    }

    /** The webhook's settings from {@code --upstream-*} (the rest: {@link WebhookSink.Options#DEFAULTS}). */
    static WebhookSink.Options upstreamOptions(ServerConfig config) {
        WebhookSink.Options d = WebhookSink.Options.DEFAULTS;
        return d.withBearerToken(config.upstreamToken)
                .withMaxInFlightBatches(config.upstreamInFlight)
                .withRequestTimeoutMs(config.upstreamTimeoutSec * 1000L)
                .withRetries(config.upstreamAttempts, d.retryBaseMs(), d.retryCapMs())
                .withMaxBatchMessages(config.upstreamMaxBatch);
    }
}
