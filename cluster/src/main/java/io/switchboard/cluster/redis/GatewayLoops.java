package io.switchboard.cluster.redis;

import io.lettuce.core.resource.EventLoopGroupProvider;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Lettuce's I/O on the gateway's own event loops: a Redis connection's replies are read on a loop that also holds
 * clients, so an inbox entry for a client on that loop is delivered without waking another thread, and a command
 * issued there is written at once. Lettuce's default is a thread of its own, one wake-up more on each side of a
 * cross-node push. The loops are the gateway's: releasing them here does nothing (the gateway shuts them down
 * after the cluster closed). Only for the transport Lettuce picks itself (epoll): its channels must register with
 * the loops' I/O handler.
 */
final class GatewayLoops implements EventLoopGroupProvider {
    private final EventLoopGroup loops;

    GatewayLoops(EventLoopGroup loops) {
        this.loops = loops;
    }

    @Override
    public <T extends EventLoopGroup> T allocate(Class<T> type) {
        if (!type.isInstance(loops)) {
            throw new IllegalStateException("the Redis client asked for a " + type.getSimpleName()
                    + ", the gateway's loops are a " + loops.getClass().getSimpleName());
        }
        return type.cast(loops);
    }

    @Override
    public int threadPoolSize() {
        return loops instanceof io.netty.util.concurrent.MultithreadEventExecutorGroup m ? m.executorCount() : 1;
    }

    @Override
    public Future<Boolean> release(EventExecutorGroup group, long quietPeriod, long timeout, TimeUnit unit) {
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
    }

    @Override
    public Future<Boolean> shutdown(long quietPeriod, long timeout, TimeUnit timeUnit) {
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
    }
}
