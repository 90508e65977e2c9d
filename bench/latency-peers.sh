#!/usr/bin/env bash
# Issue 15's side-by-side: push latency to CLIENTS held clients at PUSH_RATE pushes/s to random ones for PUSH_FOR,
# latency from each push's intended send time, on Switchboard (pushed through its API, started by the launcher, -Xmx1g:
# once from the JDK's HTTP client with up to 64 requests in flight, once pipelined on one HTTP/1.1 connection as
# the peers get their publishes, switchboard_pipelined, once as streams of one HTTP/2 connection, switchboard_h2, and
# pipelined on a server with one event loop, switchboard_1loop, single-threaded as Redis and Mosquitto are)
# and on Redis pub/sub (PUBLISH), NATS (PUB) and Mosquitto (MQTT PUBLISH, QoS 0), each published through its own
# protocol by `switchboard bench --publish-via`; then the fan-out: BROADCASTS (8) broadcasts one after another
# (Switchboard's /v1/broadcast, or a publish to bench:all / bench.all / bench/all, which every peer client also
# subscribes to), each timed to its last arrival: the median of those after BROADCAST_WARMUP (5), and the first.
# Each peer a fresh process per run, RUNS runs, medians, server CPU while the measured pushes run (not the start-up,
# ramp and warm-up; of it, what a JVM's JIT compiler threads took, still compiling), the same as microseconds of CPU
# per push, with and without the JIT's share, and every figure's ratio to Redis's. The run with one flooding client
# is bench/fair-share.sh.
#   bench/latency-peers.sh               # about 12 minutes; RUNS=1 PUSH_FOR=10s for a quick look,
#   PEERS="switchboard_pipelined redis"  # some of them only
#   BENCH_ARGS="--ack-delay 20s"         # more options for every `switchboard bench` (see bench --help)
#   SWITCHBOARD_JAR=/tmp/other.jar       # another build (an A/B comparison in one session)
#   SERVER_ARGS="--transport io_uring"   # more options for every Switchboard server (see server --help)
#   SERVER_JAVA_OPTS="-XX:+UseZGC"       # more JVM options for every Switchboard server
#   SERVER_CPUS=0 BENCH_CPUS=1           # servers and load generator on cores of their own (taskset)
# Needs redis-server, nats-server and mosquitto (Debian packages); a missing one is skipped. 127.0.0.1 only.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLIENTS=${CLIENTS:-2000}
RUNS=${RUNS:-3}
PUSH_RATE=${PUSH_RATE:-2000}
PUSH_FOR=${PUSH_FOR:-30s}
# Pushes sent first and not measured: the JVM's JIT compiles the push path in about its first 10 s; the peers get
# the same warm-up. PUSH_WARMUP=5s shows Switchboard still compiling.
PUSH_WARMUP=${PUSH_WARMUP:-15s}
HOLD=${HOLD:-34s}
# Broadcasts after the pushes, each 2 s after the one before reached every client: the fan-out column is the median
# of the last BROADCASTS - BROADCAST_WARMUP, "(first)" the first one. A JVM server's JIT compiles its broadcast loop
# over its first few broadcasts (measured: 2,000 clients, server side, first ~40-97 ms, then ~50 ms for four more,
# then 22-25 ms), as the pushes' warm-up compiles the push path; the peers, in C and Go, get the same.
BROADCASTS=${BROADCASTS:-8}
BROADCAST_WARMUP=${BROADCAST_WARMUP:-5}
BASE_PORT=${BASE_PORT:-17800}
BENCH_ARGS=${BENCH_ARGS:-}
SERVER_ARGS=${SERVER_ARGS:-}
SERVER_JAVA_OPTS=${SERVER_JAVA_OPTS:-}

jar=$(bench_jar)
java=$(java_cmd)
have() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
bin() { command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || echo "/usr/bin/$1"; }

# SERVER_CPUS / BENCH_CPUS (taskset lists, e.g. 0 and 1): each server and the load generator on cores of their own.
pin_server=(); [ -n "${SERVER_CPUS:-}" ] && pin_server=(taskset -c "$SERVER_CPUS")
pin_bench=(); [ -n "${BENCH_CPUS:-}" ] && pin_bench=(taskset -c "$BENCH_CPUS")

# start PEER PORT: starts the peer, prints its pid.
start() {
  case $1 in
    switchboard*) local loops=(); [ "$1" = switchboard_1loop ] && loops=(--event-loops 1)
                  "${pin_server[@]}" env SWITCHBOARD_JAR="$jar" JAVA_OPTS="-Xmx1g $SERVER_JAVA_OPTS" \
                   "$bench_root/switchboard" server --port "$2" \
                   --api-port $(($2 + 1)) "${loops[@]}" $SERVER_ARGS --data-dir "$bench_tmp/data-$2-$RANDOM" \
                   > "$bench_tmp/$1.log" 2>&1 & ;;
    redis) "${pin_server[@]}" "$(bin redis-server)" --port "$2" --save '' --appendonly no --maxclients $((CLIENTS + 100)) \
             > "$bench_tmp/$1.log" 2>&1 & ;;
    nats) "${pin_server[@]}" "$(bin nats-server)" -a 127.0.0.1 -p "$2" > "$bench_tmp/$1.log" 2>&1 & ;;
    mosquitto) printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_connections -1\n' "$2" > "$bench_tmp/mosq.conf"
               "${pin_server[@]}" "$(bin mosquitto)" -c "$bench_tmp/mosq.conf" > "$bench_tmp/$1.log" 2>&1 & ;;
  esac
  echo $!
}

wait_port() {
  local deadline=$(( $(date +%s) + 30 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "latency-peers: nothing listens on :$1" >&2; return 1; }
    sleep 0.1
  done
}

# server_cpu_now: sets sample to the CPU ticks of run's server ($pid) so far, the time (ns), and its JIT's ticks.
server_cpu_now() {
  sample="$(awk '{print $14+$15}' "/proc/$pid/stat") $(date +%s%N) $(jit_ticks "$pid")"
}

run() { # peer run
  local peer=$1 i=$2 proto via=() offset
  # A port of its own for every peer and run: a server just stopped may still hold its own a moment.
  case $peer in switchboard) offset=0 ;; switchboard_pipelined) offset=2 ;; switchboard_h2) offset=10 ;;
                switchboard_1loop) offset=12 ;;
                redis) offset=4 ;; nats) offset=6 ;; *) offset=8 ;; esac
  local port=$((BASE_PORT + 14 * i + offset))
  case $peer in
    switchboard*) proto=swb ;;
    redis) proto=redis; via=(--publish-via redis --api none) ;;
    nats) proto=nats; via=(--publish-via nats --api none) ;;
    mosquitto) proto=mqtt; via=(--publish-via mqtt --api none) ;;
  esac
  local pid; pid=$(start "$peer" "$port")
  bench_pids+=("$pid")
  wait_port "$port"
  case $peer in
    switchboard) wait_http "http://127.0.0.1:$((port + 1))/healthz" 30; via=(--api "http://127.0.0.1:$((port + 1))") ;;
    switchboard_pipelined|switchboard_1loop) wait_http "http://127.0.0.1:$((port + 1))/healthz" 30
                           via=(--api "http://127.0.0.1:$((port + 1))" --publish-via http) ;;
    switchboard_h2) wait_http "http://127.0.0.1:$((port + 1))/healthz" 30
                    via=(--api "http://127.0.0.1:$((port + 1))" --publish-via http2) ;;
  esac
  local log="$bench_tmp/bench-$peer-$i.log" cpu0 t0 cpu1 t1 jit0 jit1 bpid
  "${pin_bench[@]}" $java -Xmx1g -jar "$jar" bench --protocol "$proto" --target "127.0.0.1:$port" "${via[@]}" \
    --connections "$CLIENTS" --rate 2000 --hold "$HOLD" --hb 60 --push-rate "$PUSH_RATE" --push-duration "$PUSH_FOR" \
    --push-warmup "$PUSH_WARMUP" --broadcast --broadcasts "$BROADCASTS" \
    --broadcast-warmup "$BROADCAST_WARMUP" --workers 1 --id-prefix "lp$i-" --json "$bench_tmp/$peer-$i.json" \
    $BENCH_ARGS > "$log" 2>&1 &
  bpid=$!
  bench_pids+=("$bpid")
  # Server CPU over the measured pushes only: from the bench's first progress line in the 'pushing' phase (after the
  # warm-up, the ramp and the JIT's first compilations) to its last one, so a JVM's start-up is not billed to pushes.
  sample_pushing "$bpid" "$log" server_cpu_now 0.25
  read -r cpu0 t0 jit0 <<< "${pushing_first:-0 0 0}"
  read -r cpu1 t1 jit1 <<< "${pushing_last:-0 1 0}"
  wait "$bpid" 2>/dev/null || true
  kill "$pid" 2>/dev/null || true
  # Started in $(start ...)'s subshell, the server is no child of this shell (wait returns at once): the next peer
  # starts only once it ended (a JVM writes its class archive as it exits, ~0.7 s of CPU).
  for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  python3 - "$bench_tmp/$peer-$i.json" "$peer" "$i" "$((cpu1 - cpu0))" "$(( (t1 - t0) / 10000000 ))" \
    "$((jit1 - jit0))" <<'PY'
import json, sys
path, peer, i, ticks, centis, jit = sys.argv[1:7]
try:
    r = json.load(open(path))
except (OSError, ValueError):
    print("%-21s run %s: no report" % (peer, i)); sys.exit(0)
p = r.get("push_latency_ms", {})
first = r.get("broadcast_last_arrival_ms", -1)
fan = r.get("broadcast_median_last_arrival_ms", first)
print("%-21s run %s: p50 %.3f  p99 %.3f  p99.9 %.3f ms  sent %d received %d  server CPU %.1f%%  fan-out %d ms"
      " (first %d ms)  of the CPU the JIT %.1f%%" % (
      peer, i, p.get("p50.0", -1), p.get("p99.0", -1), p.get("p99.9", -1), r.get("pushes_sent", 0),
      r.get("pushes_received", 0), 100.0 * int(ticks) / max(1, int(centis)), fan, first,
      100.0 * int(jit) / max(1, int(centis))))
PY
}

peers=()
for p in ${PEERS:-switchboard switchboard_pipelined switchboard_h2 switchboard_1loop redis nats mosquitto}; do
  case $p in redis) b=redis-server ;; nats) b=nats-server ;; mosquitto) b=mosquitto ;;
             switchboard|switchboard_pipelined|switchboard_h2|switchboard_1loop) b= ;;
             *) echo "latency-peers: unknown peer '$p' in PEERS" >&2; exit 2 ;; esac
  if [ -z "$b" ] || have "$b"; then peers+=("$p"); else echo "latency-peers: $b not installed: $p skipped" >&2; fi
done
echo "latency-peers: ${peers[*]}; $CLIENTS clients, $PUSH_RATE pushes/s for $PUSH_FOR after $PUSH_WARMUP of warm-up, $RUNS runs each (fresh process each)"
for i in $(seq 1 "$RUNS"); do
  for peer in "${peers[@]}"; do
    # In this shell, not a pipeline's subshell: the processes it starts are in bench_pids for the EXIT trap (Ctrl-C,
    # a failed step), which stops them.
    run "$peer" "$i" > "$bench_tmp/row.txt"
    tee -a "$bench_tmp/results.txt" < "$bench_tmp/row.txt"
  done
done
python3 - "$bench_tmp/results.txt" "$PUSH_RATE" <<'PY'
import re, statistics, sys
rows = {}
rate = float(sys.argv[2])
for line in open(sys.argv[1]):
    m = re.match(r"(\w+)\s+run \d+: p50 (-?[\d.]+)  p99 (-?[\d.]+)  p99.9 (-?[\d.]+) ms  sent (\d+) received (\d+)  server CPU ([\d.]+)%  fan-out (-?\d+) ms"
                 r" \(first (-?\d+) ms\)  of the CPU the JIT ([\d.]+)%", line)
    if m and int(m.group(6)) > 0:
        rows.setdefault(m.group(1), []).append([float(x) for x in m.groups()[1:]])
    elif m or "no report" in line:
        print("failed run, left out of the medians:", line.strip())
# CPU per push: the server's CPU over the measured pushes (a share of one core) at PUSH_RATE pushes/s; "without the
# JIT" leaves out what a JVM's compiler threads took meanwhile (still compiling: a cost of the first minutes, not of
# every push), each run's own difference, then the median.
for v in rows.values():
    for r in v:
        r.append(r[5] - r[8])
# A broadcast that did not reach every client is -1: left out of the fan-out medians (-1 when none did).
med = {k: [statistics.median([x for x in c if j not in (6, 7) or x >= 0] or [-1]) for j, c in enumerate(zip(*v))]
       for k, v in rows.items()}
base = med.get("redis")
us = lambda pct: pct * 1e4 / rate
print("\nmedians                 p50 ms   p99 ms  p99.9 ms  server CPU  of it JIT  us/push  (no JIT)  fan-out ms  (first)"
      "   p99 vs Redis  CPU vs Redis  (no JIT)  fan-out vs Redis  (first)")
for peer in ("switchboard", "switchboard_pipelined", "switchboard_h2", "switchboard_1loop", "redis", "nats", "mosquitto"):
    if peer not in med:
        continue
    m = med[peer]
    ratio = lambda i: "%.2fx" % (m[i] / base[i]) if base and base[i] > 0 else "-"
    print("%-21s %8.3f %8.3f %9.3f %9.1f%%  %8.1f%%  %7.1f  %8.1f  %10.0f  %7.0f   %12s  %12s  %8s  %16s  %7s" % (
          peer, m[0], m[1], m[2], m[5], m[8], us(m[5]), us(m[9]), m[6], m[7], ratio(1), ratio(5), ratio(9), ratio(6),
          ratio(7)))
PY
