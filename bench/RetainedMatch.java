// How long one MQTT SUBSCRIBE takes to find the retained messages its filter matches among N retained topics of the
// fleet pattern fleet/<device>/status (one per device): a filter for one device's topics, and one for every device's.
//   java -cp gateway/target/classes bench/RetainedMatch.java [N=100000]
// Compare two builds by pointing -cp at each one's gateway/target/classes.

import io.switchboard.session.RetainedMessages;

public final class RetainedMatch {
    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        RetainedMessages retained = new RetainedMessages(n, Long.MAX_VALUE);
        byte[] payload = "online".getBytes();
        for (int i = 0; i < n; i++) {
            retained.retain("fleet/dev-" + i + "/status", payload);
        }
        long[] found = {0};
        for (String filter : new String[] {"fleet/dev-42/#", "fleet/+/status"}) {
            long nsPerSubscribe = 0;
            for (int round = 0; round < 5; round++) { // the last round, compiled
                int subscribes = filter.contains("+") ? 20 : 2_000;
                long t0 = System.nanoTime();
                for (int i = 0; i < subscribes; i++) {
                    retained.forEachMatch(filter, (topic, p) -> found[0]++);
                }
                nsPerSubscribe = (System.nanoTime() - t0) / subscribes;
            }
            System.out.printf("%-16s %,14d ns per subscribe among %,d retained topics%n", filter, nsPerSubscribe, n);
        }
        System.out.println("retained messages found: " + found[0]);
    }
}
