#!/usr/bin/env bash
# What a broadcast costs the server per client it reaches, for each of VARIANTS (server flags, ';'-separated;
# by default the epoll and io_uring transports), alternated RUNS times: a server started by the launcher (its own JVM
# settings, -Xmx1g), CLIENTS idle SWB/1 clients held by `switchboard bench` (no API use of its own), WARMUP
# broadcasts of a 40-byte payload 0.2 s apart not measured (the JIT compiles the broadcast loop), then MEASURED
# more: the server's CPU over them (user + system from /proc, JIT threads included) per client reached, and the
# median time to the API's answer (every loop has written to all of its clients). Medians over the runs.
#   bench/broadcast-cost.sh                                   # about 3 minutes
#   VARIANTS="--event-loops 1;--event-loops 2" bench/broadcast-cost.sh
# Everything on 127.0.0.1; the script stops what it started.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLIENTS=${CLIENTS:-2000}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-40}
MEASURED=${MEASURED:-40}
VARIANTS=${VARIANTS:---transport epoll;--transport io_uring}
PORT=${PORT:-19500}

jar=$(bench_jar)
java=$(java_cmd)
payload=0123456789012345678901234567890123456789

# broadcast API: one broadcast; prints the seconds to the API's answer
broadcast() {
  curl -fs -o /dev/null -w '%{time_total}\n' -X POST --data-binary "$payload" "$1/v1/broadcast"
}

# run N VARIANT: writes "cpu_us_per_client answer_ms" to $bench_tmp/result-N (run in this shell, not a subshell, so that
# the EXIT trap stops what it started on Ctrl-C)
run() {
  local i=$1 args=$2 port=$((PORT + 10 * $1)) api spid jpid bpid log="$bench_tmp/bench-$1.log" c0 c1 online
  api="http://127.0.0.1:$((port + 1))"
  # shellcheck disable=SC2086 # the variant's flags are words
  start_jvm_server "$port" "$i" $args
  spid=$server_pid jpid=$server_jvm
  $java -Xmx1g -jar "$jar" bench --protocol swb --target "127.0.0.1:$port" --api none --connections "$CLIENTS" \
    --rate 4000 --hold 300s --hb 300 --workers 1 --id-prefix "bc$i-" > "$log" 2>&1 &
  bpid=$!
  bench_pids+=("$bpid")
  for _ in $(seq 1 120); do
    online=$(curl -fs "$api/metrics" | awk '/^switchboard_sessions_online /{print int($2)}')
    [ "${online:-0}" -ge "$CLIENTS" ] && break
    sleep 0.5
  done
  if [ "${online:-0}" -lt "$CLIENTS" ]; then
    echo "broadcast-cost: only ${online:-0} of $CLIENTS clients came" >&2
    return 1
  fi
  for _ in $(seq 1 "$WARMUP"); do broadcast "$api" > /dev/null; sleep 0.2; done
  : > "$bench_tmp/times-$i"
  c0=$(awk '{print $14 + $15}' "/proc/$jpid/stat")
  for _ in $(seq 1 "$MEASURED"); do broadcast "$api" >> "$bench_tmp/times-$i"; sleep 0.2; done
  c1=$(awk '{print $14 + $15}' "/proc/$jpid/stat")
  kill "$bpid" 2>/dev/null || true; wait "$bpid" 2>/dev/null || true
  kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
  python3 - "$((c1 - c0))" "$MEASURED" "$CLIENTS" "$bench_tmp/times-$i" <<'PY'
import statistics, sys
ticks, n, clients = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
times = [float(l) for l in open(sys.argv[4]) if l.strip()]
# /proc ticks are 10 ms; the 0.2 s pauses between broadcasts cost an idle server next to nothing
print("%.2f %.1f" % (ticks * 10000.0 / (n * clients), statistics.median(times) * 1000))
PY
} > "$bench_tmp/result-$1"

IFS=';' read -r -a variants <<< "$VARIANTS"
echo "broadcast-cost: $CLIENTS idle clients, $MEASURED broadcasts measured after $WARMUP, ${#variants[@]} variants" \
  "alternated, $RUNS runs"
k=0
for r in $(seq 1 "$RUNS"); do
  for v in "${!variants[@]}"; do
    k=$((k + 1))
    run "$k" "${variants[$v]}" || exit 1
    res=$(cat "$bench_tmp/result-$k")
    echo "run $r [${variants[$v]}]: CPU $(echo "$res" | cut -d' ' -f1) us per client reached, answer" \
      "$(echo "$res" | cut -d' ' -f2) ms (median)"
    echo "$v $res" >> "$bench_tmp/results"
  done
done
python3 - "$bench_tmp/results" "$VARIANTS" <<'PY'
import statistics, sys
names = sys.argv[2].split(';')
rows = {}
for line in open(sys.argv[1]):
    v, cpu, ms = line.split()
    rows.setdefault(int(v), []).append((float(cpu), float(ms)))
base = statistics.median(c for c, _ in rows[0])
print("medians                        CPU us/client  answer ms  CPU vs the first")
for v, rs in sorted(rows.items()):
    cpu = statistics.median(c for c, _ in rs)
    print("%-30s %13.2f %10.1f %15.2fx" % (names[v], cpu, statistics.median(m for _, m in rs), cpu / base))
PY
