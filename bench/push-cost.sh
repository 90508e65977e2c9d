#!/usr/bin/env bash
# What one push costs the server at a steady rate: bytes it allocates (garbage), young collections and their pauses,
# and CPU, per push through the API. A server started by the launcher (its own JVM settings, -Xmx1g as in
# bench/latency-peers.sh), CLIENTS held clients, PUSH_RATE pushes/s to random ones pipelined on one HTTP/1.1
# connection (`switchboard bench --publish-via http`; VIA=http2: as streams of one HTTP/2 connection); measured over
# MEASURE seconds once the warm-up is done, from the JVM's own counters (jstat: eden used + young collections x eden
# size) and /metrics' pushes_accepted_total.
# Allocation is the steadiest of these figures on a shared machine (CPU varies by a fifth from run to run): use it to
# compare two builds. The JIT's compiler threads are part of the CPU; what they took while measuring is shown.
#   bench/push-cost.sh                            # about 1 minute a run, RUNS runs, medians
#   SWITCHBOARD_JAR=/tmp/other.jar bench/push-cost.sh
#   SERVER_ARGS="--event-loops 1" bench/push-cost.sh
#   VIA=http2 bench/push-cost.sh                  # the same pushes over HTTP/2 (h2c)
#   BENCH_ARGS="--ack-every 1000 --ack-delay 30s" bench/push-cost.sh   # more options for the load generator
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLIENTS=${CLIENTS:-2000}
PUSH_RATE=${PUSH_RATE:-2000}
MEASURE=${MEASURE:-20}
RUNS=${RUNS:-3}
PORT=${PORT:-18900}
SERVER_ARGS=${SERVER_ARGS:-}
BENCH_ARGS=${BENCH_ARGS:-}
VIA=${VIA:-http}
case $VIA in http|http2) ;; *) echo "push-cost: VIA must be http or http2, not '$VIA'" >&2; exit 2 ;; esac

jar=$(bench_jar)
java=$(java_cmd)
jstat="$JAVA_HOME/bin/jstat"
[ -x "$jstat" ] || { echo "push-cost: $jstat not found (a JDK, not a JRE, is needed)" >&2; exit 2; }

# snap JPID API: "EC EU YGC YGCT pushes" now.
snap() {
  local g p
  g=$("$jstat" -gc "$1" | tail -1 | awk '{print $5, $6, $13, $14}')
  p=$(curl -fs "$2/metrics" | awk '/^switchboard_pushes_accepted_total/{print $2}')
  echo "$g ${p:-0}"
}

run() {
  local i=$1 port=$((PORT + 10 * $1)) api spid jpid bpid log="$bench_tmp/bench-$1.log" a b cpu0 cpu1 t0 t1 jit0 jit1
  api="http://127.0.0.1:$((port + 1))"
  # shellcheck disable=SC2086 # SERVER_ARGS are words
  start_jvm_server "$port" "$i" $SERVER_ARGS
  spid=$server_pid jpid=$server_jvm
  # The pushes go on well past the measurement; the bench is stopped when it is done.
  # shellcheck disable=SC2086 # BENCH_ARGS are words
  $java -Xmx1g -jar "$jar" bench --protocol swb --target "127.0.0.1:$port" --api "$api" --publish-via "$VIA" \
    --connections "$CLIENTS" --rate 2000 --hold $((MEASURE + 60))s --hb 60 --push-rate "$PUSH_RATE" \
    --push-duration $((MEASURE + 30))s --push-warmup 10s --workers 1 --id-prefix "pc$i-" \
    $BENCH_ARGS > "$log" 2>&1 &
  bpid=$!
  bench_pids+=("$bpid")
  until grep -q '] pushing ' "$log" 2>/dev/null; do
    kill -0 "$bpid" 2>/dev/null || { echo "push-cost: the bench ended early:" >&2; tail -5 "$log" >&2; return 1; }
    sleep 0.2
  done
  # One scrape of /metrics first, as Prometheus would make: the JIT compiled the HTTP path on pushes alone, and the
  # first GET after that sends it back to be compiled again (a second or so of C2 on this machine), which must not
  # fall in the measurement; then a few seconds for that and the warm-up's last compilations.
  curl -fs -o /dev/null "$api/metrics" || true
  sleep 8
  a=$(snap "$jpid" "$api"); cpu0=$(awk '{print $14 + $15}' "/proc/$jpid/stat"); t0=$(date +%s%N)
  jit0=$(jit_ticks "$jpid")
  sleep "$MEASURE"
  b=$(snap "$jpid" "$api"); cpu1=$(awk '{print $14 + $15}' "/proc/$jpid/stat"); t1=$(date +%s%N)
  jit1=$(jit_ticks "$jpid")
  kill "$bpid" 2>/dev/null || true; wait "$bpid" 2>/dev/null || true
  kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
  python3 - "$i" "$a" "$b" "$((cpu1 - cpu0))" "$(( (t1 - t0) / 1000000 ))" "$((jit1 - jit0))" <<'PY'
import sys
i, a, b, ticks, ms = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), int(sys.argv[4]), int(sys.argv[5])
jit = int(sys.argv[6])
ec, eu0, y0, yt0, p0 = float(a[0]), float(a[1]), int(a[2]), float(a[3]), float(a[4])
eu1, y1, yt1, p1 = float(b[1]), int(b[2]), float(b[3]), float(b[4])
pushes = p1 - p0
if pushes <= 0:
    print("run %s: no pushes accepted while measuring" % i); sys.exit(0)
alloc = ((y1 - y0) * ec + eu1 - eu0) * 1024  # jstat gives KB; eden is emptied by each young collection
ygc = y1 - y0
print("run %s: %d pushes in %.1f s  allocated %d B/push  young GCs %d (%.2f ms each)  CPU %d us/push (%d%%), "
      "of which the JIT %d us" % (i, pushes, ms / 1000, alloc / pushes, ygc, (yt1 - yt0) * 1000 / max(ygc, 1),
      ticks * 10000 / pushes, ticks * 1000 / max(ms, 1), jit * 10000 / pushes))
PY
}

echo "push-cost: $CLIENTS clients, $PUSH_RATE pushes/s on one API connection ($VIA), measured over $MEASURE s, $RUNS runs"
for i in $(seq 1 "$RUNS"); do
  # In this shell, not a pipeline's subshell: the EXIT trap must see the processes it started (Ctrl-C).
  run "$i" > "$bench_tmp/run-$i.txt"
  tee -a "$bench_tmp/results.txt" < "$bench_tmp/run-$i.txt"
done
python3 - "$bench_tmp/results.txt" <<'PY'
import re, statistics, sys
rows = [re.search(r"allocated (\d+) B/push  young GCs (\d+) \(([\d.]+) ms each\)  CPU (\d+) us/push", l)
        for l in open(sys.argv[1])]
rows = [[float(x) for x in m.groups()] for m in rows if m]
if rows:
    m = [statistics.median(c) for c in zip(*rows)]
    print("median: allocated %d B/push, young GCs %d in the measurement (%.2f ms each), CPU %d us/push" % tuple(m))
PY
