package io.switchboard.swb;

import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;

/** Writes down every client frame a parser delivers, one line each; can pause or refuse like a server. */
class ClientFrameRecorder extends FrameRecorder implements SwbClientFrameParser.Handler {
    boolean paused;
    boolean pauseAfterHello;
    Predicate<SwbVerb> accept = v -> true;

    @Override
    public boolean paused() {
        return paused;
    }

    @Override
    public boolean accept(SwbVerb verb) {
        if (accept.test(verb)) {
            return true;
        }
        record("REFUSED " + verb);
        return false;
    }

    @Override
    public void onHello(String clientId, String token, long resumeSeq, int hbSec) {
        record("HELLO " + clientId + " token=" + token + " resume=" + resumeSeq + " hb=" + hbSec);
        paused |= pauseAfterHello;
    }

    @Override
    public void onAck(long seq) {
        record("ACK " + seq);
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
    public void onSend(String id, byte[] payload) {
        record("SEND " + id + " " + new String(payload, StandardCharsets.ISO_8859_1));
    }

    @Override
    public void onSub(String topic) {
        record("SUB " + topic);
    }

    @Override
    public void onUnsub(String topic) {
        record("UNSUB " + topic);
    }

    @Override
    public void onBye() {
        record("BYE");
    }

    @Override
    public void onAuth(String token) {
        record("AUTH " + token);
    }

    @Override
    public void onError(int code, String text) {
        record("ERR " + code + " " + text);
    }

    @Override
    public void onMalformed(int code, String text) {
        recordMalformed(code + " " + text);
    }
}
