#!/usr/bin/env bash
# Issue 3 run b: 100,000 handshaked, heart-beating idle SWB/1 clients on one box where no process may hold more
# than 20,000 open files. Six Switchboard server processes share one port (--reuse-port: the kernel spreads new
# connections over their listeners), each capped at 18,000 clients with a 768 MB heap; one `switchboard bench
# --workers auto` fans out into worker processes of at most 15,000 connections each, every worker on its own slice
# of the source addresses 127.0.0.2-127.0.0.20. Prints one table (connections held in total and per server,
# server RSS per connection summed over the server PIDs, handshake rate) and stops everything it started, also on
# Ctrl-C or failure.
#
# Without CLUSTER=1, no pushes or broadcast: each server process's API knows only the clients that process holds,
# and which process holds a client is the kernel's SO_REUSEPORT hash of its address and port, which the bench
# cannot choose. With CLUSTER=1 the servers are one cluster (--cluster on a redis-server this script starts), and
# the bench pushes PUSH_RATE/s to random clients through server 1's API and times a broadcast through it: every
# client is reached whichever process holds it; the table adds Redis memory per client.
# (bench/gateway-19k.sh measures push latency on one process.)
#
#   flock /tmp/swb-build.lock bench/gateway-100k.sh       # CLIENTS=20000 HOLD=20s for a quick run; STORM=1 adds
#                                                          # a reconnect storm; REPORT=/tmp/r.html an HTML report;
#                                                          # CLUSTER=1 one namespace over the six processes
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLIENTS=${CLIENTS:-100000}
SERVERS=${SERVERS:-6}
PER_SERVER=${PER_SERVER:-18000}
RATE=${RATE:-5000}
HOLD=${HOLD:-60s}
HB=${HB:-30}
PORT=${PORT:-17100}
API_PORT_BASE=${API_PORT_BASE:-18100}
SOURCES=${SOURCES:-127.0.0.2-127.0.0.20}
SERVER_HEAP=${SERVER_HEAP:-768m}
STORM=${STORM:-0}
REPORT=${REPORT:-}
CLUSTER=${CLUSTER:-0}
PUSH_RATE=${PUSH_RATE:-1000}
REDIS_PORT=${REDIS_PORT:-17099}

if [ $((SERVERS * PER_SERVER)) -lt "$CLIENTS" ]; then
  echo "bench: $SERVERS servers x $PER_SERVER clients = $((SERVERS * PER_SERVER)) < CLIENTS=$CLIENTS; raise SERVERS" >&2
  exit 2
fi
nofile=$(ulimit -Hn)
if [ "$nofile" != unlimited ] && [ $((PER_SERVER + 500)) -gt "$nofile" ]; then
  echo "bench: PER_SERVER=$PER_SERVER needs about $((PER_SERVER + 500)) open files per server process but the" \
       "hard limit is $nofile; lower PER_SERVER and raise SERVERS" >&2
  exit 2
fi

jar=$(bench_jar)
java=$(java_cmd)
cluster=()
redis_used() { redis-cli -p "$REDIS_PORT" info memory 2>/dev/null | awk -F: '/^used_memory:/{print $2+0}'; }
if [ "$CLUSTER" = 1 ]; then
  command -v redis-server >/dev/null || { echo "bench: CLUSTER=1 needs redis-server (apt-get install redis-server)" >&2; exit 2; }
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$bench_tmp" --save '' --appendonly no \
    > "$bench_tmp/redis.log" 2>&1 &
  bench_pids+=($!)
  redis_pid=$!
  deadline=$(( $(date +%s) + 10 ))
  until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && kill -0 "$redis_pid" 2>/dev/null; do
    # Its own redis-server, not one that already held the port (its keys would be used): it must still run.
    kill -0 "$redis_pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ] \
      || { echo "bench: redis-server did not start on :$REDIS_PORT (see $bench_tmp/redis.log)" >&2; exit 1; }
    sleep 0.1
  done
  cluster=(--cluster "redis://127.0.0.1:$REDIS_PORT")
  echo "bench: cluster on redis-server :$REDIS_PORT (no persistence: a benchmark)"
fi
server_pids=()
for i in $(seq 1 "$SERVERS"); do
  $java -Xms$SERVER_HEAP -Xmx$SERVER_HEAP -jar "$jar" server --port "$PORT" --reuse-port --data-dir "$bench_tmp/data-$i" \
    --api-port $((API_PORT_BASE + i)) --max-connections "$PER_SERVER" --node "s$i" "${cluster[@]}" \
    > "$bench_tmp/server-$i.log" 2>&1 &
  server_pids+=($!)
  bench_pids+=($!)
done
for i in $(seq 1 "$SERVERS"); do
  wait_http "http://127.0.0.1:$((API_PORT_BASE + i))/healthz" 60
done
redis_before=$([ "$CLUSTER" = 1 ] && redis_used || echo 0)
echo "bench: $SERVERS server processes on :$PORT (SO_REUSEPORT; pids ${server_pids[*]}; APIs :$((API_PORT_BASE + 1))-:$((API_PORT_BASE + SERVERS))), heap $SERVER_HEAP, at most $PER_SERVER clients each"

# Connections per server, sampled every 5 s; the sample with the most connections in total is kept.
sample_servers() {
  local total=0 list="" c
  for i in $(seq 1 "$SERVERS"); do
    c=$(curl -fs --max-time 2 "http://127.0.0.1:$((API_PORT_BASE + i))/v1/stats" | jq -r '.connections // 0' 2>/dev/null || true)
    c=${c:-0}
    total=$((total + c))
    list="$list $c"
  done
  echo "$total$list"
}
(
  best=0
  while sleep 5; do
    s=$(sample_servers)
    if [ "${s%% *}" -gt "$best" ]; then
      best=${s%% *}; echo "$s" > "$bench_tmp/peak"
      [ "$CLUSTER" = 1 ] && redis_used > "$bench_tmp/redis-peak"
    fi
  done
) &
bench_pids+=($!)

extra=()
[ "$STORM" = 1 ] && extra+=(--storm)
[ -n "$REPORT" ] && extra+=(--report "$REPORT")
[ "$CLUSTER" = 1 ] && extra+=(--push-rate "$PUSH_RATE" --broadcast)
pids_csv=$(IFS=,; echo "${server_pids[*]}")
echo "bench: $CLIENTS clients at $RATE/s from $SOURCES, hold $HOLD, heartbeat ${HB}s, workers auto"
set +e
# The bench reads heap per client from server 1's API (a sample of one process) and RSS from all server pids.
$java -Xmx1g -jar "$jar" bench --target "127.0.0.1:$PORT" --api "http://127.0.0.1:$((API_PORT_BASE + 1))" \
  --workers auto --source "$SOURCES" --connections "$CLIENTS" --rate "$RATE" --hold "$HOLD" --hb "$HB" \
  --server-pid "$pids_csv" --json "$bench_tmp/bench.json" "${extra[@]}" &
bench_pid=$!
bench_pids+=("$bench_pid")
wait "$bench_pid"
status=$?
set -e

if [ -s "$bench_tmp/bench.json" ]; then
  j="$bench_tmp/bench.json"
  peak=$(cat "$bench_tmp/peak" 2>/dev/null || echo "0")
  echo
  echo "== gateway-100k: $CLIENTS clients, $SERVERS server processes sharing :$PORT, $(jq -r '.workers // 1' "$j") bench worker processes"
  printf '%-50s %s\n' "connections held (handshaked)" "$(jq -r '"\(.connections_established) / \(.connections_target)"' "$j")"
  printf '%-50s %s\n' "connections per server (peak sample, servers 1-$SERVERS)" "${peak#* } (sum ${peak%% *})"
  printf '%-50s %s\n' "server RSS per connection (all $SERVERS PIDs summed)" "$(jq -r '.server_pids_rss_per_client_bytes // "n/a"' "$j") B"
  printf '%-50s %s\n' "server heap per client (server 1, after full GC)" "$(jq -r '.server_heap_per_client_bytes // "n/a"' "$j") B"
  printf '%-50s %s\n' "handshake rate (first connect to last WELCOME)" "$(jq -r '.handshakes_per_s | floor' "$j") /s"
  printf '%-50s %s\n' "accept queue overflows / drops during the ramp" "$(jq -r '"\(.ramp_listen_overflows) / \(.ramp_listen_drops)"' "$j")"
  printf '%-50s %s\n' "still open at end / errors" "$(jq -r '"\(.open_at_end) / \(.errors | if length == 0 then "none" else tostring end)"' "$j")"
  if [ "$CLUSTER" = 1 ]; then
    printf '%-50s %s\n' "pushes through server 1: sent / measured" "$(jq -r '"\(.pushes_sent) / \(.pushes_received), failed \(.pushes_failed)"' "$j")"
    printf '%-50s %s\n' "push latency p50 / p99 / p99.9 (any process)" "$(jq -r '.push_latency_ms | "\(."p50.0") / \(."p99.0") / \(."p99.9") ms"' "$j")"
    printf '%-50s %s\n' "broadcast through server 1: reached, last arrival" "$(jq -r '"\(.broadcast_received) clients, \(.broadcast_last_arrival_ms) ms"' "$j")"
    redis_peak=$(cat "$bench_tmp/redis-peak" 2>/dev/null || echo 0)
    printf '%-50s %s\n' "Redis memory per client (at the peak sample)" "$(( (redis_peak - redis_before) / (${peak%% *} > 0 ? ${peak%% *} : 1) )) B"
  fi
  if [ "$STORM" = 1 ]; then
    printf '%-50s %s\n' "storm: back / dropped, 99% back after" "$(jq -r '.storm | "\(.back) / \(.dropped), \(.to_99_percent_back_ms) ms"' "$j")"
  fi
fi
for i in $(seq 1 "$SERVERS"); do
  grep -E "warning|ERROR|Exception" "$bench_tmp/server-$i.log" | grep -v "^WARNING: " | sed "s/^/server $i: /" | head -3 || true
done
exit $status
