package io.switchboard.mqtt;

/** PINGREQ. */
public record PingReq() implements MqttPacket {
}
