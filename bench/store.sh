#!/usr/bin/env bash
# Issue 11's benchmark: what the disk store costs, in one run on this machine.
#  1. Stored pushes (ttl 1 h, 100-byte payloads, to 10,000 offline clients) through the API from 16 keep-alive
#     connections, each waiting for its answer (closed loop: the rate is the server's), for DURATION after a
#     warm-up: pushes/s and answer latency for --store memory and for the disk store with each --store-fsync
#     policy; RUNS runs each, in turn, on a fresh gateway and data directory; medians.
#  2. RECOVER_N stored messages loaded in batches, the gateway killed with SIGKILL and started again on the same
#     directory: recovery time (the store's own reading, and until the API answered), messages recovered, and
#     disk bytes per stored message.
#   bench/store.sh                       # DURATION=10 RUNS=3 RECOVER_N=1000000; PORT=17300 API_PORT=18300
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
RECOVER_N=${RECOVER_N:-1000000}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-17300}
API_PORT=${API_PORT:-18300}
SERVER_HEAP=${SERVER_HEAP:-2g}
POLICIES=${POLICIES:-"memory interval batch always"}

jar=$(bench_jar)
java=$(java_cmd)
api="127.0.0.1:$API_PORT"
server_pid=

# start_server DATA_DIR ARGS...: a gateway on the bench ports, waited for.
start_server() {
  local dir="$1"; shift
  $java -Xmx$SERVER_HEAP -jar "$jar" server --port "$PORT" --api-port "$API_PORT" --data-dir "$dir" \
    --max-queued-total 1g "$@" >> "$bench_tmp/server.log" 2>&1 &
  server_pid=$!
  bench_pids+=("$server_pid")
  wait_http "http://$api/healthz" 120
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}

json_field() { # FILE FIELD
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "bench: store, $RUNS runs of ${DURATION}s per policy ($POLICIES), $CONNECTIONS API connections; $(nproc) cores"
echo "bench: data under $bench_tmp ($(df -T "$bench_tmp" | awk 'NR==2 {print $2 " on " $1}'))"
declare -A rate p50 p99 p999
for policy in $POLICIES; do
  for run in $(seq 1 "$RUNS"); do
    dir="$bench_tmp/data-$policy-$run"
    if [ "$policy" = memory ]; then
      start_server "$dir" --store memory
    else
      start_server "$dir" --store disk --store-fsync "$policy"
    fi
    out="$bench_tmp/load-$policy-$run.json"
    # A run with refusals (a non-200 answer: push-load exits 1) is shown with why, not ended in silence by pipefail.
    load_status=0
    $java -Xmx512m -jar "$jar" push-load --api "$api" --connections "$CONNECTIONS" --clients 10000 --ttl 3600 \
      --payload 100 --duration "${DURATION}s" --warmup 3s --json "$out" 2> "$bench_tmp/load.err" \
      | sed "s/^/  $policy run $run: /" || load_status=$?
    if [ "$load_status" != 0 ]; then
      echo "store: $policy run $run: push-load exited $load_status (refusals or errors; its last lines:)" >&2
      tail -5 "$bench_tmp/load.err" >&2
      [ -s "$out" ] || { stop_server; exit 1; }
    fi
    stop_server
    rm -rf "$dir"
  done
  rate[$policy]=$(for r in $(seq 1 "$RUNS"); do json_field "$bench_tmp/load-$policy-$r.json" messages_per_s; done | median)
  p50[$policy]=$(for r in $(seq 1 "$RUNS"); do json_field "$bench_tmp/load-$policy-$r.json" p50_ms; done | median)
  p99[$policy]=$(for r in $(seq 1 "$RUNS"); do json_field "$bench_tmp/load-$policy-$r.json" p99_ms; done | median)
  p999[$policy]=$(for r in $(seq 1 "$RUNS"); do json_field "$bench_tmp/load-$policy-$r.json" p999_ms; done | median)
done

echo
echo "| store | stored pushes/s (median of $RUNS) | vs memory | answer p50 | p99 | p99.9 |"
echo "|---|---|---|---|---|---|"
base=${rate[memory]:-}
for policy in $POLICIES; do
  ratio=$( [ -n "$base" ] && awk -v a="${rate[$policy]}" -v b="$base" 'BEGIN {printf "%.2fx", a / b}' || echo "-")
  name=$( [ "$policy" = memory ] && echo "memory" || echo "disk, fsync $policy")
  printf "| %s | %'.0f | %s | %.3f ms | %.3f ms | %.3f ms |\n" "$name" "${rate[$policy]}" "$ratio" \
    "${p50[$policy]}" "${p99[$policy]}" "${p999[$policy]}"
done

if [ "$RECOVER_N" -gt 0 ]; then
  echo
  dir="$bench_tmp/data-recovery"
  start_server "$dir" --store disk --store-fsync batch
  echo "bench: loading $RECOVER_N stored messages (batches of 200 to 10,000 clients) ..."
  $java -Xmx512m -jar "$jar" push-load --api "$api" --connections 8 --clients 10000 --ttl 3600 --payload 100 \
    --batch 200 --count "$RECOVER_N" --duration 0 --warmup 0s --json "$bench_tmp/fill.json" 2> "$bench_tmp/load.err" \
    | sed 's/^/  fill: /'
  stats=$(curl -fs "http://$api/v1/stats")
  records=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["records"])')
  disk=$(du -sb "$dir" | cut -f1)
  echo "bench: the store holds $records messages in $disk bytes of files: $((disk / (records > 0 ? records : 1))) bytes per stored message (100-byte payloads)"
  kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null || true
  t0=$(date +%s%N)
  start_server "$dir" --store disk --store-fsync batch
  t1=$(date +%s%N)
  stats=$(curl -fs "http://$api/v1/stats")
  echo "$stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)["store"]
print("bench: after kill -9, recovered %d messages of %d clients: the store read them in %d ms" % (
    s["recovered_messages"], s["recovered_clients"], s["recovery_ms"]))'
  echo "bench: from start to the API answering: $(( (t1 - t0) / 1000000 )) ms (JVM start included)"
  grep -E "store:" "$bench_tmp/server.log" | tail -3 | sed 's/^/  server: /'
  stop_server
fi
grep -E "ERROR|Exception" "$bench_tmp/server.log" | head -5 || true
