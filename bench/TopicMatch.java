// How long one publish takes to find its subscribers among N wildcard filters of the fleet pattern cmd/<device>/#
// (one per device) in the session core's topic index: a topic outside them and one that matches one.
//   java -cp gateway/target/classes bench/TopicMatch.java [N=50000]
// Compare two builds by pointing -cp at each one's gateway/target/classes.

import io.switchboard.session.Session;
import io.switchboard.session.TopicIndex;

public final class TopicMatch {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        TopicIndex index = new TopicIndex();
        var make = Session.class.getDeclaredConstructors()[0]; // (id, shard, state, nowMs, seqOrigin)
        make.setAccessible(true);
        for (int i = 0; i < n; i++) {
            index.add("cmd/dev-" + i + "/#", (Session) make.newInstance("dev-" + i, null, (byte) 0, 0L, 0L));
        }
        long[] matched = {0};
        for (String topic : new String[] {"telemetry/hall/temp", "cmd/dev-5/reboot"}) {
            long nsPerPublish = 0;
            for (int round = 0; round < 5; round++) { // the last round, compiled
                int publishes = 2_000;
                long t0 = System.nanoTime();
                for (int i = 0; i < publishes; i++) {
                    index.forEachMatch(topic, (filter, s) -> matched[0]++);
                }
                nsPerPublish = (System.nanoTime() - t0) / publishes;
            }
            System.out.printf("%-22s %,12d ns per publish among %,d wildcard filters%n", topic, nsPerPublish, n);
        }
        System.out.println("subscribers found: " + matched[0]);
    }
}
