#!/usr/bin/env bash
# Issue 13's memory targets: heap per idle session of an MQTT client and of an SWB/1-over-WebSocket client against
# an SWB/1 client on the same gateway build. RUNS runs each, alternating, on a fresh server (-Xms/-Xmx SERVER_HEAP, --store memory) holding N clients
# from `switchboard bench --protocol swb|mqtt|ws` (the MQTT clients each subscribe to bench/<id>, so they also carry
# one subscription); the figure is the bench's "server heap per client (after full GC)"; medians.
#   bench/mqtt-memory.sh                 # N=8000 RUNS=3; PORT=17500 (MQTT on PORT+1, WebSocket on PORT+2), API_PORT=18500
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=${N:-8000}
RUNS=${RUNS:-3}
PORT=${PORT:-17500}
API_PORT=${API_PORT:-18500}
SERVER_HEAP=${SERVER_HEAP:-512m}

jar=$(bench_jar)
java=$(java_cmd)
declare -A got
for run in $(seq 1 "$RUNS"); do
  for proto in swb mqtt ws; do
    $java -Xms$SERVER_HEAP -Xmx$SERVER_HEAP -jar "$jar" server --port "$PORT" --mqtt-port $((PORT + 1)) \
      --ws-port $((PORT + 2)) \
      --api-port "$API_PORT" --store memory --max-connections $((N + 100)) > "$bench_tmp/server.log" 2>&1 &
    spid=$!
    bench_pids+=("$spid")
    wait_http "http://127.0.0.1:$API_PORT/healthz" 30
    case $proto in swb) port=$PORT ;; mqtt) port=$((PORT + 1)) ;; ws) port=$((PORT + 2)) ;; esac
    b=$($java -Xmx1g -jar "$jar" bench --target "127.0.0.1:$port" --protocol "$proto" \
      --api "http://127.0.0.1:$API_PORT" --connections "$N" --rate 3000 --hold 8s --hb 60 --workers 1 \
      --server-pid "$spid" 2>/dev/null | sed -n 's/^server heap per client (after full GC) *\([0-9]*\) B/\1/p')
    echo "bench: $proto run $run: ${b:-?} B heap per idle session"
    got[$proto]="${got[$proto]:-} $b"
    kill "$spid"; wait "$spid" 2>/dev/null || true
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
swb=$(echo "${got[swb]}" | median)
mqtt=$(echo "${got[mqtt]}" | median)
ws=$(echo "${got[ws]}" | median)
echo "bench: median heap per idle session: SWB/1 $swb B, MQTT $mqtt B (one subscription each): +$((mqtt - swb)) B (target: at most +200 B)"
echo "bench: median heap per idle session: SWB/1 over WebSocket $ws B: +$((ws - swb)) B (target: at most +800 B)"
