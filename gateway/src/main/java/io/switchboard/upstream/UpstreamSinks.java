package io.switchboard.upstream;

/** Builds the {@link UpstreamSink} named by {@code --upstream}. Stateless. */
public final class UpstreamSinks {

    static final String USAGE = "--upstream must be webhook:URL, e.g. webhook:http://127.0.0.1:9000/switchboard";

    private UpstreamSinks() {}

    /** {@link #parse(String, WebhookSink.Options)} with {@link WebhookSink.Options#DEFAULTS}. */
    public static UpstreamSink parse(String spec) {
        return parse(spec, WebhookSink.Options.DEFAULTS);
    }

    /**
     * @param spec    {@code null} or blank: {@link UpstreamSink#NONE}; {@code webhook:http(s)://…}: a {@link WebhookSink}
     * @param options settings for a webhook sink (bearer token, batch size, …)
     * @throws IllegalArgumentException with a one-line operator-facing message for anything else
     */
    public static UpstreamSink parse(String spec, WebhookSink.Options options) {
        if (spec == null || spec.isBlank()) {
            return UpstreamSink.NONE;
        }
        String s = spec.strip();
        int colon = s.indexOf(':');
        String kind = colon < 0 ? s : s.substring(0, colon);
        if (!kind.equals("webhook")) {
            if (kind.equals("http") || kind.equals("https")) {
                throw new IllegalArgumentException(USAGE + " (prefix the URL with 'webhook:')");
            }
            throw new IllegalArgumentException(USAGE + "; got '" + s + "'");
        }
        return new WebhookSink(WebhookSink.parseUrl(colon < 0 ? "" : s.substring(colon + 1)), options);
    }
}
