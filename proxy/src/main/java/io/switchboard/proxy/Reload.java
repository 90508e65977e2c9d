package io.switchboard.proxy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How {@link ProxyServer#reload} applies a new configuration, all or nothing: it checks what must not change, builds
 * the new routes and binds the new listeners (undoing those binds on failure), and only then commits the limits,
 * the source sockets, the configuration and the routes, stopping listeners that disappeared. Stateless; called
 * with the server's monitor held, which guards its listeners.
 */
final class Reload {
    private Reload() {}

    /**
     * Applies {@code next} to {@code s}.
     *
     * @return one line saying what changed
     * @throws IllegalArgumentException naming what is wrong; then nothing changed
     */
    static String apply(ProxyServer s, ProxyConfig next) throws InterruptedException {
        if (s.draining()) {
            throw new IllegalArgumentException("draining");
        }
        next.clock = s.config.clock;
        next.openFilesLimit = s.config.openFilesLimit;
        next.validate();
        String fixed = s.config.fixedSettingsChanged(next);
        if (fixed != null) {
            throw new IllegalArgumentException(fixed + " changed: these need a restart");
        }
        if (!s.guard.canLimitPerIp(next.maxConnectionsPerIp)) {
            throw new IllegalArgumentException("--max-connections-per-ip was off at start and can only be "
                    + "switched on by a restart");
        }
        // Built (its sources checked) before anything changes: a refusal after the new listeners were bound would
        // leave them bound, known to nothing.
        OutboundSockets outbound = new OutboundSockets(next, s.metrics);
        Map<String, ProxyListener> listeners = s.listeners;
        // Build everything that can fail before changing anything.
        Map<String, Route> routes = new LinkedHashMap<>();
        List<ProxyListener> added = new ArrayList<>();
        for (RouteConfig rc : next.routes) {
            ProxyListener l = listeners.get(rc.name());
            if (l == null) {
                l = new ProxyListener(rc.name());
                added.add(l);
            }
            routes.put(rc.name(), new Route(rc, l, l.route));
        }
        List<ProxyListener> bound = new ArrayList<>();
        try {
            for (ProxyListener l : added) {
                // Routed before it listens: it accepts at once (discarded with it if the reload fails).
                l.route = routes.get(l.name);
                s.binder.bind(l, routes.get(l.name).config);
                bound.add(l);
            }
        } catch (Exception e) {
            for (ProxyListener l : bound) {
                l.channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            throw new IllegalArgumentException("cannot listen on " + (added.size() > bound.size()
                    ? added.get(bound.size()).name : "?") + ": " + e.getMessage(), e);
        }
        // Commit.
        s.guard.setLimits(next.connectionLimit(), next.maxConnectionsPerIp);
        s.rate.setPerSecond(next.ratePerIp);
        s.outbound = outbound;
        outbound.publish();
        s.config = next;
        List<String> removed = new ArrayList<>();
        for (ProxyListener l : List.copyOf(listeners.values())) {
            if (!routes.containsKey(l.name)) {
                ProxyServer.stopHealth(l.route);
                l.channel.close();
                listeners.remove(l.name);
                removed.add(l.name);
            }
        }
        for (Map.Entry<String, Route> e : routes.entrySet()) {
            Route r = e.getValue();
            ProxyListener l = r.listener;
            if (l.route != null && l.route != r && l.route.health != null) {
                l.route.health.stop(r::clearChecksIfUnchecked); // cleared after its last check (on its loop)
            } else {
                r.clearChecksIfUnchecked();
            }
            l.route = r;
            listeners.putIfAbsent(l.name, l);
            s.startHealth(r);
        }
        return routes.size() + " listeners (" + added.size() + " new, " + removed.size() + " removed), "
                + next.connectionLimit() + " max connections";
    }
}
