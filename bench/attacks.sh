#!/usr/bin/env bash
# Issue 10's attacks, repeated against a freshly started gateway (launcher defaults plus -Xmx96m, as the attacker's
# report had it); one line each: refused / answered / bounded, with the memory figures.
#   bench/attacks.sh                    # about a minute; PORT=, API_PORT= to move it
# 1. out of memory: 3,000 pushes of 60 KB with ttl=3600 to 200 offline ids
# 2. API memory: one connection pipelines 100,000 GET /v1/stats and never reads
# 3. a lost answer: a stored push followed by a half-close
# 8. API connections held: 500 partial POSTs (Content-Length 1e6, 1 KB sent), held past the body timeout
# Every request goes to 127.0.0.1 only, bounded in count and time; the script stops what it started.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=${PORT:-17300}
API_PORT=${API_PORT:-18300}
HEAP=${HEAP:-96m}
BODY_TIMEOUT=${BODY_TIMEOUT:-5}

jar=$(bench_jar)
java=$(java_cmd)
# The launcher's own flags (what an operator runs), with the small heap of the report.
$java -XX:+UseG1GC -XX:MaxGCPauseMillis=50 -XX:+ExitOnOutOfMemoryError -Xmx$HEAP -jar "$jar" server --data-dir "$bench_tmp/data" \
  --port "$PORT" --api-port "$API_PORT" --api-body-timeout "$BODY_TIMEOUT" > "$bench_tmp/server.log" 2>&1 &
server_pid=$!
bench_pids+=("$server_pid")
wait_http "http://127.0.0.1:$API_PORT/healthz" 30
echo "attacks: gateway pid $server_pid, -Xmx$HEAP, clients :$PORT, API :$API_PORT, --api-body-timeout $BODY_TIMEOUT s"

python3 - "$API_PORT" "$server_pid" "$BODY_TIMEOUT" <<'PY'
import socket, sys, time, json, http.client

api_port, pid, body_timeout = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def rss_mb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1

def alive():
    try:
        c = http.client.HTTPConnection("127.0.0.1", api_port, timeout=5)
        c.request("GET", "/healthz")
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except OSError:
        return False

def line(n, what, verdict, detail):
    print(f"{n:>2}. {what:<46} {verdict:<9} {detail}")

# 1. out of memory
payload = b"x" * 60_000
conn = http.client.HTTPConnection("127.0.0.1", api_port, timeout=10)
codes = {}
rss0 = rss_mb()
for i in range(3000):
    conn.request("POST", f"/v1/clients/offline-{i % 200}/messages?ttl=3600", body=payload)
    r = conn.getresponse()
    r.read()
    codes[r.status] = codes.get(r.status, 0) + 1
conn.close()
ok = alive()
line(1, "3,000 x 60 KB stored pushes, 200 offline ids", "refused" if codes.get(503) and ok else "FAILED",
     f"answers {dict(sorted(codes.items()))}; still serving: {ok}; RSS {rss0:.0f} -> {rss_mb():.0f} MB")

# 2. pipelined requests never read
def api_stats():
    c = http.client.HTTPConnection("127.0.0.1", api_port, timeout=10)
    c.request("GET", "/v1/stats")
    n = json.loads(c.getresponse().read())
    c.close()
    return n["api"]

s = socket.create_connection(("127.0.0.1", api_port))
s.setblocking(False)
req = b"GET /v1/stats HTTP/1.1\r\nHost: x\r\n\r\n"
rss0 = rss_mb()
before = api_stats()["requests_total"]
sent = 0
deadline = time.time() + 30
stalled_since = None
while sent < 100_000 and time.time() < deadline:
    try:
        s.send(req)
        sent += 1
        stalled_since = None
    except BlockingIOError:
        stalled_since = stalled_since or time.time()
        if time.time() - stalled_since > 3:
            break  # the socket buffers are full: the server is not reading
        time.sleep(0.01)
time.sleep(2)
api = api_stats()
read = api["requests_total"] - before - 1
rss1 = rss_mb()
s.close()
bounded = read < 100_000 and api["reading_paused"] >= 1 and rss1 - rss0 < 200
line(2, "100,000 pipelined GET /v1/stats, never read", "bounded" if bounded else "FAILED",
     f"{sent:,} written (into kernel buffers), {read:,} read by the server before it paused the connection; "
     f"RSS {rss0:.0f} -> {rss1:.0f} MB")

# 3. half-close after a stored push
s = socket.create_connection(("127.0.0.1", api_port), timeout=10)
s.sendall(b"POST /v1/clients/halfclose/messages?ttl=600 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
s.shutdown(socket.SHUT_WR)
answer = b""
try:
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        answer += chunk
except OSError:
    pass
s.close()
status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "none"
line(3, "stored push, then half-close (nc -N)", "answered" if status == "200" else "FAILED",
     f"status {status}, connection closed after the answer")

# 8. partial POSTs held open
socks = []
for i in range(500):
    try:
        c = socket.create_connection(("127.0.0.1", api_port), timeout=5)
        c.sendall(b"POST /v1/clients/slow/messages?ttl=60 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
                  + b"y" * 1024)
        socks.append(c)
    except OSError:
        break
rss0 = rss_mb()
time.sleep(body_timeout + 3)
closed = 0
timeouts = 0
for c in socks:
    c.settimeout(0.5)
    try:
        data = c.recv(4096)
        if data.startswith(b"HTTP/1.1 408") or data.startswith(b"HTTP/1.1 503"):
            timeouts += 1
        closed += 1
    except socket.timeout:
        pass
    except OSError:
        closed += 1
    c.close()
line(8, f"{len(socks)} partial POSTs held {body_timeout + 3} s", "bounded" if closed == len(socks) else "FAILED",
     f"{closed} closed by the server ({timeouts} answered 408/503); RSS while held {rss0:.0f} MB; serving: {alive()}")
PY
status=$?
grep -E "OutOfMemory|ERROR" "$bench_tmp/server.log" | head -3 || true
exit $status
