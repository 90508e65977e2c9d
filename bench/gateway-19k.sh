#!/usr/bin/env bash
# Issue 2's headline run: one Switchboard process holding 19,000 handshaked, heart-beating idle clients.
# Measures server heap and RSS per client (after a full GC), kernel slab per connection, handshake rate,
# push latency at 2,000 pushes/s to random clients through the API, and one broadcast reaching everyone.
#   bench/gateway-19k.sh                 # defaults below; CLIENTS=5000 HOLD=60s bench/gateway-19k.sh for a quick run
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLIENTS=${CLIENTS:-19000}
RATE=${RATE:-4000}
HOLD=${HOLD:-90s}
PUSH_RATE=${PUSH_RATE:-2000}
PUSH_FOR=${PUSH_FOR:-30s}
HB=${HB:-30}
PORT=${PORT:-17000}
API_PORT=${API_PORT:-18080}
SERVER_HEAP=${SERVER_HEAP:-1g}

jar=$(bench_jar)
java=$(java_cmd)
# A fixed, pre-touched heap: RSS growth then shows what is not heap (kernel-side buffers are not in RSS).
$java -Xms$SERVER_HEAP -Xmx$SERVER_HEAP -XX:+AlwaysPreTouch -jar "$jar" server --port "$PORT" --api-port "$API_PORT" --data-dir "$bench_tmp/data" \
  --max-connections $((CLIENTS + 100)) > "$bench_tmp/server.log" 2>&1 &
server_pid=$!
bench_pids+=("$server_pid")
wait_http "http://127.0.0.1:$API_PORT/healthz" 30 "$server_pid"

echo "bench: server pid $server_pid on :$PORT (API :$API_PORT), heap $SERVER_HEAP; $CLIENTS clients at $RATE/s, hold $HOLD"
$java -Xmx2g -jar "$jar" bench --target "127.0.0.1:$PORT" --api "http://127.0.0.1:$API_PORT" \
  --connections "$CLIENTS" --rate "$RATE" --hold "$HOLD" --hb "$HB" \
  --push-rate "$PUSH_RATE" --push-duration "$PUSH_FOR" --broadcast \
  --workers 1 --server-pid "$server_pid" --json "${JSON_OUT:-/dev/null}" && status=0 || status=$? # set -e: not here
grep -E "warning|ERROR|Exception" "$bench_tmp/server.log" | grep -v "^WARNING: " | head -5 || true
exit $status
