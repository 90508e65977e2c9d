package io.switchboard.swb;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/** Writes down every server frame a parser delivers, one line each. */
class ServerFrameRecorder extends FrameRecorder implements SwbServerFrameParser.Handler {

    @Override
    public void onWelcome(String clientId, int hbSec, long seq, String node) {
        record("WELCOME " + clientId + " hb=" + hbSec + " seq=" + seq + " node=" + node);
    }

    @Override
    public void onMsg(long seq, ByteBuf buf, int index, int length) {
        record("MSG " + seq + " " + buf.toString(index, length, StandardCharsets.ISO_8859_1));
    }

    @Override
    public void onPing() {
        record("PING");
    }

    @Override
    public void onPong() {
        record("PONG");
    }

    @Override
    public void onSent(String id) {
        record("SENT " + id);
    }

    @Override
    public void onNack(String id, int code, String text) {
        record("NACK " + id + " " + code + " " + text);
    }

    @Override
    public void onOk(String verb, String subject) {
        record("OK " + verb + " " + subject);
    }

    @Override
    public void onErr(int code, String text) {
        record("ERR " + code + " " + text);
    }

    @Override
    public void onBye(int code, String text, long retryMs) {
        record("BYE " + code + " " + text + " retry=" + retryMs);
    }

    @Override
    public void onMalformed(SwbVerb verb, String reason) {
        recordMalformed(verb + " " + reason);
    }
}
