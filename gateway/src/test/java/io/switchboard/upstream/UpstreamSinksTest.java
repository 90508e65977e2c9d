package io.switchboard.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import org.junit.jupiter.api.Test;

class UpstreamSinksTest {

    @Test
    void shouldReturnNoneWhenUpstreamIsNotSet() {
        assertSame(UpstreamSink.NONE, UpstreamSinks.parse(null));
        assertSame(UpstreamSink.NONE, UpstreamSinks.parse(""));
        assertSame(UpstreamSink.NONE, UpstreamSinks.parse("  "));
    }

    @Test
    void shouldBuildWebhookSinkForHttpAndHttpsUrls() {
        try (UpstreamSink sink = UpstreamSinks.parse("webhook:http://127.0.0.1:9000/switchboard")) {
            WebhookSink webhook = assertInstanceOf(WebhookSink.class, sink);
            assertEquals(URI.create("http://127.0.0.1:9000/switchboard"), webhook.url());
            assertEquals(WebhookSink.Options.DEFAULTS, webhook.options());
        }
        try (UpstreamSink sink = UpstreamSinks.parse("webhook:https://backend.example.com/in?x=1",
                WebhookSink.Options.DEFAULTS.withBearerToken("t"))) {
            assertEquals("t", assertInstanceOf(WebhookSink.class, sink).options().bearerToken());
        }
    }

    private static String error(String spec) {
        return assertThrows(IllegalArgumentException.class, () -> UpstreamSinks.parse(spec)).getMessage();
    }

    @Test
    void shouldExplainWhatIsWrongWithABadSpec() {
        assertEquals(UpstreamSinks.USAGE + "; got 'kafka:topic'", error("kafka:topic"));
        assertTrue(error("http://127.0.0.1:9000/").contains("prefix the URL with 'webhook:'"));
        assertEquals("--upstream webhook:ftp://x/y: URL must start with http:// or https://", error("webhook:ftp://x/y"));
        assertTrue(error("webhook:").startsWith("--upstream webhook: needs a URL"));
        assertTrue(error("webhook").startsWith("--upstream webhook: needs a URL"));
        assertTrue(error("webhook:http://user:pw@host/").contains("credentials in the URL are not supported"));
        assertTrue(error("webhook:http://exa mple/").contains("not a valid URL"));
        assertTrue(error("webhook:http:///path").contains("no valid host"));
        for (String spec : new String[] {"kafka:topic", "webhook:ftp://x/y", "webhook:http://exa mple/"}) {
            assertTrue(error(spec).lines().count() == 1, "one line: " + spec);
        }
    }
}
