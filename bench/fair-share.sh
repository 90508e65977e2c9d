#!/usr/bin/env bash
# Issue 15's fair-share check: push latency of ordinary clients with and without one client that floods PINGs
# as fast as the server answers, against a fresh gateway each time (java -jar with G1, -Xmx1g; SERVER_GC= to change):
#   none        no flooder                                  (the baseline)
#   unlimited   the flooder, with --client-rate 0           (the behaviour before fair share)
#   limited     the flooder, with the default --client-rate (2,000 frames/s)
# Each mode RUNS times (medians printed), CLIENTS held clients for HOLD, PUSH_RATE pushes/s to random ones for
# PUSH_FOR within it (the first 5 s not measured).
#   bench/fair-share.sh                  # about 4 minutes; RUNS=1 for a quick look
# Everything on 127.0.0.1, bounded in time; the script stops what it started.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLIENTS=${CLIENTS:-2000}
RUNS=${RUNS:-3}
PUSH_RATE=${PUSH_RATE:-2000}
PUSH_FOR=${PUSH_FOR:-20s}
HOLD=${HOLD:-30s}
PORT=${PORT:-17400}
API_PORT=${API_PORT:-18400}
MODES=${MODES:-none unlimited limited}
SERVER_OPTS=${SERVER_OPTS:-}   # extra JVM flags for the server, e.g. -Xlog:gc

jar=$(bench_jar)
java=$(java_cmd)

cat > "$bench_tmp/flood.py" <<'PY'
# Sends PING lines as fast as the socket takes them and counts PONGs; closed, it connects again at once (an
# attacker would); until killed or 300 s. On SIGTERM: PONGs a second and connections made.
import signal, socket, sys, threading, time
port = int(sys.argv[1]); pongs = [0]; connections = [0]; stop = time.time() + 300; start = time.time()
def report(*_):
    print("flooder: %d PONGs/s over %d connections" % (pongs[0] / max(0.001, time.time() - start), connections[0]),
          file=sys.stderr)
    sys.exit(0)
signal.signal(signal.SIGTERM, report)
def reader(s):
    while True:
        try:
            b = s.recv(1 << 16)
        except OSError:
            return
        if not b:
            return
        pongs[0] += b.count(b"PONG")
chunk = b"PING\n" * 2000
while time.time() < stop:
    try:
        s = socket.create_connection(("127.0.0.1", port))
        connections[0] += 1
        s.sendall(b"HELLO flooder\n")
        threading.Thread(target=reader, args=(s,), daemon=True).start()
        while time.time() < stop:
            s.sendall(chunk)
    except OSError:
        time.sleep(0.01)
PY

run() { # mode run
  local mode=$1 i=$2 rate_opt=()
  [ "$mode" = unlimited ] && rate_opt=(--client-rate 0)
  # shellcheck disable=SC2086
  $java ${SERVER_GC:--XX:+UseG1GC -XX:MaxGCPauseMillis=50} -Xmx1g $SERVER_OPTS -jar "$jar" server --port "$PORT" --api-port "$API_PORT" \
    --data-dir "$bench_tmp/data-$mode-$i" "${rate_opt[@]}" > "$bench_tmp/server-$mode-$i.log" 2>&1 &
  local server_pid=$!
  bench_pids+=("$server_pid")
  wait_http "http://127.0.0.1:$API_PORT/healthz" 30
  local flood_pid=""
  if [ "$mode" != none ]; then
    python3 "$bench_tmp/flood.py" "$PORT" 2> "$bench_tmp/flood-$mode-$i.log" &
    flood_pid=$!
    bench_pids+=("$flood_pid")
  fi
  local cpu0; cpu0=$(awk '{print $14+$15}' "/proc/$server_pid/stat")
  local t0; t0=$(date +%s%N)
  # shellcheck disable=SC2086
  $java -Xmx1g ${BENCH_OPTS:-} -jar "$jar" bench --target "127.0.0.1:$PORT" --api "http://127.0.0.1:$API_PORT" \
    --connections "$CLIENTS" --rate 2000 --hold "$HOLD" --hb 30 --push-rate "$PUSH_RATE" --push-duration "$PUSH_FOR" \
    --workers 1 --json "$bench_tmp/$mode-$i.json" > "$bench_tmp/bench-$mode-$i.log" 2>&1 || true
  local cpu1; cpu1=$(awk '{print $14+$15}' "/proc/$server_pid/stat")
  local t1; t1=$(date +%s%N)
  local pongs=0 throttled closed
  throttled=$(curl -s "http://127.0.0.1:$API_PORT/v1/stats" | python3 -c 'import json,sys; r=json.load(sys.stdin)["refusals"]; print(r.get("throttled",0), r.get("throttled_closed",0))')
  local flood="-"
  if [ -n "$flood_pid" ]; then
    kill "$flood_pid" 2>/dev/null || true
    wait "$flood_pid" 2>/dev/null || true
    flood=$(grep -o "[0-9]* PONGs/s over [0-9]* connections" "$bench_tmp/flood-$mode-$i.log" | head -1 || true)
  fi
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  [ -n "${KEEP_LOGS:-}" ] && cp "$bench_tmp/server-$mode-$i.log" "$bench_tmp/bench-$mode-$i.log" "$KEEP_LOGS/" 2>/dev/null
  true
  python3 - "$bench_tmp/$mode-$i.json" "$mode" "$i" "$(( (cpu1 - cpu0) ))" "$(( (t1 - t0) / 10000000 ))" "$throttled" "$flood" <<'PY'
import json, sys
path, mode, i, ticks, centis, refusals, flood = sys.argv[1:8]
r = json.load(open(path)); p = r.get("push_latency_ms", {})
cpu = 100.0 * int(ticks) / max(1, int(centis))  # clock ticks are 1/100 s
print("%-9s run %s: p50 %.3f  p99 %.3f  p99.9 %.3f ms  sent %d received %d  server CPU %.0f%%  throttled/closed %s  flooder: %s" % (
    mode, i, p.get("p50.0", -1), p.get("p99.0", -1), p.get("p99.9", -1), r.get("pushes_sent", 0),
    r.get("pushes_received", 0), cpu, refusals.replace(" ", "/"), flood))
PY
}

echo "fair-share: $CLIENTS clients, $PUSH_RATE pushes/s for $PUSH_FOR, $RUNS runs per mode (fresh server each)"
for i in $(seq 1 "$RUNS"); do
  for mode in $MODES; do
    # In this shell, not a pipeline's subshell: the processes it starts are in bench_pids for the EXIT trap (Ctrl-C,
    # a failed step), which stops them.
    run "$mode" "$i" > "$bench_tmp/row.txt"
    tee -a "$bench_tmp/results.txt" < "$bench_tmp/row.txt"
  done
done
python3 - "$bench_tmp/results.txt" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\w+)\s+run \d+: p50 ([\d.]+)  p99 ([\d.]+)  p99.9 ([\d.]+) ms.*CPU (\d+)%", line)
    if m:
        rows.setdefault(m.group(1), []).append([float(x) for x in m.groups()[1:]])
base = None
print("\nmedians        p50 ms   p99 ms  p99.9 ms  server CPU   p99.9 vs none")
for mode in ("none", "unlimited", "limited"):
    if mode not in rows:
        continue
    med = [statistics.median(c) for c in zip(*rows[mode])]
    if mode == "none":
        base = med
    ratio = "%.2fx" % (med[2] / base[2]) if base and base[2] > 0 else "-"
    print("%-10s  %8.3f %8.3f %9.3f %9.0f%%   %s" % (mode, med[0], med[1], med[2], med[3], ratio))
PY
