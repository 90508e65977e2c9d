package io.switchboard.mqtt;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Topic names and filters as MQTT 5 section 4.7 has them (matching: the session core's TopicIndexTest). */
class MqttTopicsTest {
    @Test
    void validFiltersAndNames() {
        for (String f : List.of("#", "a/#", "+", "+/+", "a/+/b", "/", "a//b", "+/#", "/#", "$share/g/#", "€")) {
            assertTrue(MqttTopics.validFilter(f), f);
        }
        for (String f : List.of("", "a/#/b", "a#", "a+", "+a/b", "#/", "##", "++", "a/b+", "a\u0000")) {
            assertFalse(MqttTopics.validFilter(f), f);
        }
        for (String t : List.of("a", "/", "a//b", "$SYS/x", "ü/€", " ")) {
            assertTrue(MqttTopics.validTopicName(t), t);
        }
        for (String t : List.of("", "a/+", "#", "a/b#", "\u0000")) {
            assertFalse(MqttTopics.validTopicName(t), t);
        }
    }
}
