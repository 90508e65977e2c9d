package io.switchboard.api;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.lang.reflect.Proxy;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** An answer that arrives from another loop once its connection's loop has stopped (the server closing). */
class ExchangeTest {
    @Test
    void shouldDropAnAnswerQuietlyWhenItsConnectionsLoopHasStopped() throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel();
        DefaultEventLoop stopped = new DefaultEventLoop();
        stopped.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
        // The request was read on a loop that has stopped since: its answer comes from a session's loop.
        ChannelHandlerContext ctx = (ChannelHandlerContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ChannelHandlerContext.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "channel" -> ch;
                    case "executor" -> stopped;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        Exchange.attach(ch, new AtomicInteger());
        Exchange ex = Exchange.begin(ctx, true);

        // It threw before: the API then counted a loop error, logged it and answered the same request again (500).
        assertDoesNotThrow(() -> ex.respond(HttpResponseStatus.OK, new byte[0], "text/plain"));
        ch.finishAndReleaseAll();
    }
}
